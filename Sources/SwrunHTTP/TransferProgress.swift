/// What a download reports as it goes: a bar on a terminal (`DownloadProgress`), or
/// numbers sent to a parent process that draws one bar for several downloads.
public protocol TransferProgress: AnyObject {
    /// A transfer (or a resumed one) begins with `completed` bytes already there.
    func start(total: Int64?, completed: Int64)
    func advance(by count: Int)
    /// The transfer is over, whether it succeeded or not.
    func finish()
}
