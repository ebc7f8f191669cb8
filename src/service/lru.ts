/**
 * A least-recently-used map bounded by total weight (entries by default): Map keeps insertion
 * order, so the first key is the oldest.
 */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  private total = 0;
  constructor(
    private readonly capacity: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.total -= this.weigh(old);
    }
    this.map.set(key, value);
    this.total += this.weigh(value);
    while (this.total > this.capacity && this.map.size > 1) {
      const [oldest, v] = this.map.entries().next().value as [string, V];
      this.map.delete(oldest);
      this.total -= this.weigh(v);
    }
  }
}
