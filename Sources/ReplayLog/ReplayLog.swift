/// Namespace for the durable replay log of dual-write: segment files of CRC32C-checked records, group commit,
/// reader, checkpoint and the applier that replays records into the mirror.
public enum ReplayLog {}
