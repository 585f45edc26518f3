import ShadowSQL
import Testing

@Suite struct UncapturableWriteTests {
    @Test("MySQL LOAD DATA and LOAD XML from a server file, or LOCAL among other statements, are uncapturable; LOCAL alone is captured")
    func loadData() {
        #expect(UncapturableWrite.reason(in: "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE t", dialect: .mysql) == nil)
        #expect(UncapturableWrite.reason(in: "load data concurrent local infile 'x' into table t", dialect: .mysql) == nil)
        #expect(UncapturableWrite.reason(in: "LOAD XML LOCAL INFILE 'x' INTO TABLE t", dialect: .mysql) == nil)
        #expect(UncapturableWrite.reason(in: "load data infile 'x' into table t", dialect: .mysql)?.hasPrefix("LOAD DATA INFILE without LOCAL") == true)
        #expect(UncapturableWrite.reason(in: "LOAD XML INFILE 'x' INTO TABLE t", dialect: .mysql)?.hasPrefix("LOAD XML INFILE without LOCAL") == true)
        #expect(UncapturableWrite.reason(in: "SELECT 1; LOAD DATA LOCAL INFILE 'x' INTO TABLE t", dialect: .mysql)?.hasPrefix("LOAD DATA LOCAL INFILE is captured only") == true)
        #expect(UncapturableWrite.reason(in: "INSERT INTO t (note) VALUES ('LOAD DATA')", dialect: .mysql) == nil)
        #expect(UncapturableWrite.reason(in: "LOAD INDEX INTO CACHE t", dialect: .mysql) == nil)
    }

    @Test("MySQL XA statements are uncapturable except XA RECOVER")
    func xa() {
        #expect(UncapturableWrite.reason(in: "XA START 'x'", dialect: .mysql)?.hasPrefix("XA START") == true)
        #expect(UncapturableWrite.reason(in: "xa commit 'x'", dialect: .mysql) != nil)
        #expect(UncapturableWrite.reason(in: "XA RECOVER", dialect: .mysql) == nil)
    }

    @Test("PostgreSQL COPY … FROM a file or program, COPY … FROM STDIN among other statements, and two-phase commit are uncapturable; COPY … FROM STDIN alone is captured, COPY … TO is a read")
    func postgres() {
        #expect(UncapturableWrite.reason(in: "COPY t (a, b) FROM STDIN WITH (FORMAT csv)", dialect: .postgres) == nil)
        #expect(UncapturableWrite.reason(in: "copy t from stdin;", dialect: .postgres) == nil)
        #expect(UncapturableWrite.reason(in: "copy t from '/srv/x.csv'", dialect: .postgres)?.hasPrefix("COPY … FROM a file or a program") == true)
        #expect(UncapturableWrite.reason(in: "COPY t FROM PROGRAM 'cat x'", dialect: .postgres) != nil)
        #expect(UncapturableWrite.reason(in: "SELECT 1; COPY t FROM STDIN", dialect: .postgres)?.hasPrefix("COPY … FROM STDIN is captured only") == true)
        #expect(UncapturableWrite.reason(in: "COPY (SELECT a FROM t) TO STDOUT", dialect: .postgres) == nil)
        #expect(UncapturableWrite.reason(in: "COPY t TO STDOUT", dialect: .postgres) == nil)
        #expect(UncapturableWrite.reason(in: "PREPARE TRANSACTION 'x'", dialect: .postgres) != nil)
        #expect(UncapturableWrite.reason(in: "COMMIT PREPARED 'x'", dialect: .postgres) != nil)
        #expect(UncapturableWrite.reason(in: "ROLLBACK PREPARED 'x'", dialect: .postgres) != nil)
        #expect(UncapturableWrite.reason(in: "COMMIT", dialect: .postgres) == nil)
        #expect(UncapturableWrite.reason(in: "PREPARE q AS SELECT 1", dialect: .postgres) == nil)
    }
}
