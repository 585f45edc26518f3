import NIOCore

/// Namespace for the SwiftNIO glue: listeners, relay handlers, backend connections and TLS.
public enum ShadowProxy {}
