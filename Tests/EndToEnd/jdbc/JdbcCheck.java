// Connects with a JDBC URL, runs one statement and prints its result, so end-to-end tests can check
// that the MariaDB and PostgreSQL JDBC drivers work (directly, and later through the proxy).
//
// Usage: java -cp /usr/share/java/mariadb-java-client.jar:/usr/share/java/postgresql.jar JdbcCheck.java \
//            URL USER PASSWORD SQL [PARAM...]
// With parameters the statement is prepared (`?` placeholders) and each PARAM bound as a string.
// Output: one line per row, columns separated by tabs (NULL printed as \N), then "rows=N" or "updated=N".
// Exit status: 0 on success, 1 on a SQL error (printed as "error sqlstate=... code=...: message"), 2 on bad usage.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

public class JdbcCheck {
    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: JdbcCheck URL USER PASSWORD SQL [PARAM...]");
            System.exit(2);
        }
        try (Connection connection = DriverManager.getConnection(args[0], args[1], args[2]);
             PreparedStatement statement = connection.prepareStatement(args[3])) {
            for (int i = 4; i < args.length; i++) {
                statement.setString(i - 3, args[i]);
            }
            if (statement.execute()) {
                int rows = 0;
                try (ResultSet result = statement.getResultSet()) {
                    int columns = result.getMetaData().getColumnCount();
                    while (result.next()) {
                        StringBuilder line = new StringBuilder();
                        for (int c = 1; c <= columns; c++) {
                            if (c > 1) line.append('\t');
                            String value = result.getString(c);
                            line.append(value == null ? "\\N" : value);
                        }
                        System.out.println(line);
                        rows++;
                    }
                }
                System.out.println("rows=" + rows);
            } else {
                System.out.println("updated=" + statement.getUpdateCount());
            }
        } catch (SQLException e) {
            System.out.println("error sqlstate=" + e.getSQLState() + " code=" + e.getErrorCode() + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
