import Foundation

/// The demo's orders: ids 1–100 exist from the start; new ones follow.
///
/// Every request thread reads it, so it sits behind `NSLock` (a plain
/// pthread mutex) rather than `Mutex`, which on Linux is a
/// priority-inheritance futex and costs a system call on every contended
/// acquisition: with dozens of connection threads that lock, not the work,
/// would set the demo's throughput.
final class OrderStore: @unchecked Sendable {
    struct Order: Sendable {
        var id: Int
        var item: String
        var quantity: Int
        var status: String
    }

    private let lock = NSLock()
    private var orders: [Int: Order]
    private var nextID = 101

    init() {
        var orders: [Int: Order] = [:]
        for id in 1...100 {
            orders[id] = Order(id: id, item: "widget-\(id)", quantity: id % 5 + 1, status: id % 3 == 0 ? "shipped" : "open")
        }
        self.orders = orders
    }

    func order(_ id: Int) -> Order? {
        lock.withLock { orders[id] }
    }

    func page(_ page: Int, size: Int) -> [Order] {
        lock.withLock {
            let ids = orders.keys.sorted()
            let start = max(0, (page - 1) * size)
            guard start < ids.count else { return [] }
            return ids[start..<min(ids.count, start + size)].compactMap { orders[$0] }
        }
    }

    func create(item: String, quantity: Int) -> Order {
        lock.withLock {
            let order = Order(id: nextID, item: item, quantity: quantity, status: "open")
            orders[order.id] = order
            nextID += 1
            return order
        }
    }

    @discardableResult
    func delete(_ id: Int) -> Bool {
        lock.withLock { orders.removeValue(forKey: id) != nil }
    }
}
