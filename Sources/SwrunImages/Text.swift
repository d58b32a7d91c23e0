extension StringProtocol {
    /// Without leading and trailing whitespace, newlines included.
    var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
