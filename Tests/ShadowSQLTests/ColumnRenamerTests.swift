import ShadowSQL
import Testing

/// Column renames for a dual-write mirror: `orders.note → remark`, `orders.qty → quantity`, `items.qty → amount`.
@Suite struct ColumnRenamerTests {
    static let columns = ["orders": ["note": "remark", "qty": "quantity"], "items": ["qty": "amount"]]

    func renamed(_ sql: String, _ dialect: SQLDialect = .mysql) -> String? {
        switch ColumnRenamer(dialect: dialect, columns: Self.columns).rename(sql) {
        case .unchanged: return sql
        case .rewritten(let text): return text
        case .uncertain: return nil
        }
    }

    func reason(_ sql: String, _ dialect: SQLDialect = .mysql) -> String? {
        if case .uncertain(let reason) = ColumnRenamer(dialect: dialect, columns: Self.columns).rename(sql) { return reason }
        return nil
    }

    @Test("an INSERT column list of a mapped table is renamed, other columns kept")
    func insertColumnList() {
        #expect(renamed("INSERT INTO orders (id, note, qty) VALUES (1, 'note', 2)")
            == "INSERT INTO orders (id, remark, quantity) VALUES (1, 'note', 2)")
        #expect(renamed("insert into ORDERS(`Note`) values (?)") == "insert into ORDERS(`remark`) values (?)")
    }

    @Test("UPDATE SET targets and WHERE and ORDER BY references are renamed")
    func updateSetAndWhere() {
        #expect(renamed("UPDATE orders SET qty = qty + 1, note = 'x' WHERE note = 'a' ORDER BY qty LIMIT 1")
            == "UPDATE orders SET quantity = quantity + 1, remark = 'x' WHERE remark = 'a' ORDER BY quantity LIMIT 1")
        #expect(renamed("DELETE FROM orders WHERE qty < 0") == "DELETE FROM orders WHERE quantity < 0")
    }

    @Test("ON DUPLICATE KEY UPDATE targets and VALUES() references are renamed")
    func onDuplicateKeyUpdate() {
        #expect(renamed("INSERT INTO orders (id, qty) VALUES (1, 2) ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)")
            == "INSERT INTO orders (id, quantity) VALUES (1, 2) ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity)")
    }

    @Test("PostgreSQL ON CONFLICT, EXCLUDED.col and RETURNING are renamed; quoted names keep their quotes")
    func postgresUpsert() {
        #expect(renamed(
            "INSERT INTO orders (id, \"qty\") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty RETURNING note",
            .postgres)
            == "INSERT INTO orders (id, \"quantity\") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET quantity = EXCLUDED.quantity RETURNING remark")
        // PostgreSQL folds unquoted names: QTY is qty; a quoted "QTY" is another column.
        #expect(renamed("UPDATE orders SET QTY = 1 WHERE \"QTY\" = 2", .postgres) == "UPDATE orders SET quantity = 1 WHERE \"QTY\" = 2")
    }

    @Test("qualified t.col, alias.col and db.t.col follow the column's own table in a join")
    func qualifiedForms() {
        #expect(renamed("UPDATE orders o JOIN items i ON i.order_id = o.id SET o.qty = i.qty WHERE o.note = 'a'")
            == "UPDATE orders o JOIN items i ON i.order_id = o.id SET o.quantity = i.amount WHERE o.remark = 'a'")
        #expect(renamed("UPDATE orders JOIN items ON items.order_id = orders.id SET shop.orders.note = items.qty")
            == "UPDATE orders JOIN items ON items.order_id = orders.id SET shop.orders.remark = items.amount")
        #expect(renamed("DELETE FROM orders WHERE orders.qty = 0") == "DELETE FROM orders WHERE orders.quantity = 0")
    }

    @Test("statements on unmapped tables, function names and aliases being declared are left alone")
    func untouched() {
        #expect(renamed("INSERT INTO other (note, qty) VALUES (1, 2)") == "INSERT INTO other (note, qty) VALUES (1, 2)")
        #expect(renamed("UPDATE orders SET qty = note(1), id = CAST(id AS qty)") == "UPDATE orders SET quantity = note(1), id = CAST(id AS qty)")
        #expect(renamed("UPDATE orders SET note = 'qty'") == "UPDATE orders SET remark = 'qty'")
    }

    @Test("each statement of a multi-statement text is renamed on its own")
    func multiStatement() {
        #expect(renamed("UPDATE orders SET qty = 1; UPDATE items SET qty = 2")
            == "UPDATE orders SET quantity = 1; UPDATE items SET amount = 2")
    }

    @Test("an unqualified mapped column in a join of two tables is uncertain, with the column and tables named")
    func ambiguousJoin() {
        let text = reason("UPDATE orders JOIN items ON items.order_id = orders.id SET orders.note = 'x' WHERE qty > 1")
        #expect(text == "column 'qty' is not qualified in a statement naming several tables (items, orders), so which table it belongs to cannot be known; qualify it with its table")
        #expect(reason("DELETE FROM orders WHERE id IN (SELECT order_id FROM items WHERE qty = 0)") != nil)
    }

    @Test("an unqualified SET target of a one-table UPDATE with a subquery still belongs to that table")
    func updateWithSubquery() {
        #expect(renamed("UPDATE orders SET note = 'x' WHERE id IN (SELECT order_id FROM items WHERE items.qty = 0)")
            == "UPDATE orders SET remark = 'x' WHERE id IN (SELECT order_id FROM items WHERE items.amount = 0)")
    }

    @Test("INSERT without a column list into a mapped table is uncertain; SET and DEFAULT VALUES forms are not")
    func insertWithoutColumnList() {
        #expect(reason("INSERT INTO orders VALUES (1, 'a', 2)")?.contains("INSERT without a column list into 'orders'") == true)
        #expect(reason("INSERT INTO orders SELECT id, note, qty FROM archive") != nil)
        #expect(renamed("INSERT INTO orders SET note = 'a', qty = 2") == "INSERT INTO orders SET remark = 'a', quantity = 2")
        #expect(renamed("INSERT INTO orders DEFAULT VALUES", .postgres) == "INSERT INTO orders DEFAULT VALUES")
        #expect(renamed("INSERT INTO other VALUES (1)") == "INSERT INTO other VALUES (1)")
    }

    @Test("SELECT * inside INSERT … SELECT over a mapped table is uncertain; count(*) and multiplication are not")
    func selectStar() {
        #expect(reason("INSERT INTO archive (id, note, qty) SELECT * FROM orders")?.contains("'*'") == true)
        #expect(reason("INSERT INTO archive (a) SELECT o.* FROM orders o") != nil)
        #expect(renamed("UPDATE orders SET qty = qty * 2 WHERE (SELECT count(*) FROM orders) > 0")
            == "UPDATE orders SET quantity = quantity * 2 WHERE (SELECT count(*) FROM orders) > 0")
    }

    @Test("a qualifier that is no table of the statement (a derived table) makes a mapped column uncertain")
    func derivedTable() {
        #expect(reason("INSERT INTO archive (x) SELECT d.qty FROM (SELECT orders.qty FROM orders) d")?.contains("derived table") == true)
        #expect(reason("UPDATE orders SET note = 'x' WHERE id IN (SELECT c.id FROM (SELECT id, qty FROM orders) c WHERE c.qty > 1)") != nil)
    }

    @Test("DDL naming a mapped column is uncertain; DDL on a mapped table that names none is not")
    func ddl() {
        #expect(reason("ALTER TABLE orders ADD COLUMN extra INT AFTER qty")?.contains("DDL naming 'qty'") == true)
        #expect(renamed("TRUNCATE TABLE orders") == "TRUNCATE TABLE orders")
    }

    @Test("an empty column map never changes anything")
    func emptyMap() {
        let renamer = ColumnRenamer(dialect: .mysql, columns: [:])
        #expect(renamer.isEmpty)
        #expect(renamer.rename("INSERT INTO orders VALUES (1)") == .unchanged)
    }
}
