// Fuzz target mysql-server: server→client bytes. The first byte selects CLIENT_DEPRECATE_EOF; then, each time the
// ResponseTracker is idle, one byte selects what command the answer belongs to, and frames (MySQLFrameDecoder) are
// fed to the tracker until the answer completes. Every frame also goes through the server-message decoders
// (greeting, capability masking, OK, ERR, prepare OK, auth switch). Before each frame the relay's fast path,
// ResponseTracker.answerRun, is tried on the bytes left (the first byte's second bit says whether it may complete the
// answer), and checked against feeding the same frames one by one: both must end in the same state, with the same
// completion. Thrown errors are expected; traps are findings.
import MySQLWire
import NIOCore

let expectations: [ResponseTracker.Expectation] = [
    .result(binary: false), .result(binary: true), .prepareOK, .fieldList, .single, .authentication,
    .rows(binary: true), .localInfileData,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var tracker = ResponseTracker(deprecateEOF: data[0] & 1 == 1)
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1))
    var decoder = MySQLFrameDecoder()
    var frames = 0
    while input.readableBytes > 0, frames < 10_000 {
        if tracker.isIdle {
            guard let selector: UInt8 = input.readInteger() else { break }
            tracker.expect(expectations[Int(selector) % expectations.count])
        }
        var runTracker = tracker
        let run = runTracker.answerRun(in: input, mayComplete: data[0] & 2 == 2)
        if run.length > 0 {
            var byFrame = tracker
            var slice = input.getSlice(at: input.readerIndex, length: run.length)!
            var sliceDecoder = MySQLFrameDecoder()
            var completed = false
            while let frame = try? sliceDecoder.decode(buffer: &slice) {
                guard let outcome = try? byFrame.frame(frame) else { fatalError("a run took a frame the tracker rejects") }
                if case .complete = outcome { completed = true }
            }
            precondition(slice.readableBytes == 0, "a run ended inside a frame")
            precondition(byFrame == runTracker, "a run left the tracker elsewhere than frame-by-frame decoding")
            precondition(completed == (run.completion != nil), "a run and frame-by-frame decoding disagree on completion")
            tracker = runTracker
            input.moveReaderIndex(forwardBy: run.length)
            frames += 1
            continue
        }
        let frame: MySQLFrame?
        do { frame = try decoder.decode(buffer: &input) } catch { break }
        guard let frame else { break }
        frames += 1
        _ = try? HandshakeV10(payload: frame.payload)
        _ = try? HandshakeV10.maskCapabilities(in: frame.payload, tls: frame.sequenceID & 1 == 0)
        _ = try? OKPacket(payload: frame.payload)
        _ = try? ERRPacket(payload: frame.payload)
        _ = try? StmtPrepareOK(payload: frame.payload)
        _ = try? AuthSwitchRequest(payload: frame.payload)
        do {
            if case .localInfileRequested = try tracker.frame(frame) { tracker.localInfileFinished() }
        } catch {
            break
        }
    }
    return 0
}
