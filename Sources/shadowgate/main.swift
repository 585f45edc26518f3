import ShadowgateCLI

await Shadowgate.runMain()
