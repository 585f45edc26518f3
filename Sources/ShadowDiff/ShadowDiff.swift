/// Namespace for Shadowgate's data tools: shadow DDL and the base/shadow diff.
public enum ShadowDiff {}
