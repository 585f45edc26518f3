import NIOCore

/// How both protocols' relay handlers keep the bytes a socket delivers until they are decoded.
extension ByteBuffer {
    /// Appends received bytes; when nothing is pending the received buffer is adopted as is, so decoded frames
    /// are slices of it and relaying them copies nothing.
    ///
    /// When a partial frame is pending behind frames already decoded, only its bytes move to a new buffer. The
    /// decoded frames are slices still being relayed, so the storage is shared: writing into it copies all of
    /// it, consumed bytes included. On a streamed result that was every read: the buffer climbed to the
    /// compaction threshold (1 MiB) and stayed there, each read copied it whole, and a slow client's pending
    /// writes held slices of several such copies (+10 MiB RSS per slow reader).
    mutating func appendKeepingSlices(_ received: ByteBuffer) {
        var received = received
        if readableBytes == 0 {
            self = received
        } else if readerIndex > 0 {
            var pending = ByteBufferAllocator().buffer(capacity: readableBytes + received.readableBytes)
            pending.writeBuffer(&self)
            pending.writeBuffer(&received)
            self = pending
        } else {
            writeBuffer(&received)
        }
    }

    /// Drops consumed bytes after a decode pass.
    mutating func compactAfterDecoding() {
        if readableBytes == 0 {
            self = ByteBuffer()
        } else if readerIndex > 1 << 20 {
            discardReadBytes()
        }
    }
}
