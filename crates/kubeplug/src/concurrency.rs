//! Running many independent requests at once, with a bound.

use futures::{StreamExt, stream};
use std::future::Future;

/// Default bound on concurrent requests (`--concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Runs `f` on every item with at most `limit` futures in flight, and returns the results in
/// the order of the input (so output is deterministic whatever order the answers arrive in).
pub async fn bounded<I, F, Fut, T>(items: I, limit: usize, f: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = T>,
{
    stream::iter(items).map(f).buffered(limit.max(1)).collect().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn keeps_input_order_and_never_exceeds_the_bound() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = bounded(0..40u64, 4, |i| {
            let (running, peak) = (&running, &peak);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Later items finish first, so order must come from `buffered`.
                tokio::time::sleep(Duration::from_millis(40 - i)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        })
        .await;
        assert_eq!(out, (0..40).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 4);
    }
}
