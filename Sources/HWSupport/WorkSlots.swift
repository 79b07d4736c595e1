import Foundation

/// A fixed list of work items shared by worker threads: each thread claims
/// the next index and stores its result in that index's slot, so results come
/// back in item order whatever the scheduling.
public final class WorkSlots<Result>: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var slots: [Result?]

  public init(count: Int) { slots = Array(repeating: nil, count: count) }

  /// The next unclaimed index, or nil when all are taken.
  public func claim() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < slots.count else { return nil }
    next += 1
    return next - 1
  }

  public func store(_ index: Int, _ result: Result) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  /// Every slot, in order (nil where no result was stored).
  public var values: [Result?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }

  /// `body(i)` for every `i` in `0..<count` on up to `jobs` threads; `done`
  /// hears each result as it finishes (completion order). Results in index order.
  public static func map(
    _ count: Int, jobs: Int, done: @Sendable (Int, Result) -> Void = { _, _ in }, _ body: @Sendable (Int) -> Result
  ) -> [Result] {
    let slots = WorkSlots(count: count)
    DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
      while let index = slots.claim() {
        let result = body(index)
        slots.store(index, result)
        done(index, result)
      }
    }
    return slots.values.map { $0! }
  }
}
