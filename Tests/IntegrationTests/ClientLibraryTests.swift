import DatabaseClients
import Testing

@Suite struct ClientLibraryTests {
    @Test("libmariadb and libpq are linked and report their versions")
    func clientLibrariesLink() {
        #expect(!ClientLibraryVersions.mariadb.isEmpty)
        #expect(ClientLibraryVersions.libpq >= 100000)
    }
}
