import ShadowSQL
import Testing

@Suite struct SmokeTests {
    @Test("the seed example renames the mapped table in an INSERT")
    func seed() {
        #expect(
            rewritten("INSERT INTO mse_demo_table(location) VALUES(?)", grayStrictMap, .mysql)
                == "INSERT INTO mse_demo_table_gray(location) VALUES(?)")
    }
}
