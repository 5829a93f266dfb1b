import Synchronization

/// The demo's orders: ids 1–100 exist from the start; new ones follow.
final class OrderStore: Sendable {
    struct Order: Sendable {
        var id: Int
        var item: String
        var quantity: Int
        var status: String
    }

    private let state: Mutex<(orders: [Int: Order], nextID: Int)>

    init() {
        var orders: [Int: Order] = [:]
        for id in 1...100 {
            orders[id] = Order(id: id, item: "widget-\(id)", quantity: id % 5 + 1, status: id % 3 == 0 ? "shipped" : "open")
        }
        state = Mutex((orders, 101))
    }

    func order(_ id: Int) -> Order? {
        state.withLock { $0.orders[id] }
    }

    func page(_ page: Int, size: Int) -> [Order] {
        state.withLock { state in
            let ids = state.orders.keys.sorted()
            let start = max(0, (page - 1) * size)
            guard start < ids.count else { return [] }
            return ids[start..<min(ids.count, start + size)].compactMap { state.orders[$0] }
        }
    }

    func create(item: String, quantity: Int) -> Order {
        state.withLock { state in
            let order = Order(id: state.nextID, item: item, quantity: quantity, status: "open")
            state.orders[order.id] = order
            state.nextID += 1
            return order
        }
    }

    @discardableResult
    func delete(_ id: Int) -> Bool {
        state.withLock { $0.orders.removeValue(forKey: id) != nil }
    }
}
