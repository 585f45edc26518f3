import ShadowgateCLI

await Shadowgate.main()
