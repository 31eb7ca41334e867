//! Login rate limiting per client address (DESIGN §9), in front of the per-account lockout:
//! the lockout stops guessing one account's password, this stops one address from trying many
//! accounts. In memory: a restart forgets, which is acceptable for a brake on guessing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most `limit` login attempts per address per `window`.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    limit: u32,
    window: Duration,
    seen: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(30, Duration::from_secs(60))
    }
}

impl LoginThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Count an attempt from `addr`; false when it is over the limit.
    pub fn allow(&self, addr: Option<&str>) -> bool {
        let Some(addr) = addr else { return true };
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.len() > 10_000 {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(addr.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_the_limit_is_refused_until_the_window_passes() {
        let t = LoginThrottle::new(3, Duration::from_millis(50));
        assert!((0..3).all(|_| t.allow(Some("10.0.0.1"))));
        assert!(!t.allow(Some("10.0.0.1")));
        assert!(t.allow(Some("10.0.0.2")));
        std::thread::sleep(Duration::from_millis(60));
        assert!(t.allow(Some("10.0.0.1")));
    }
}
