//! What was read of a case, kept in memory for as long as the database says it is current
//! (issue 15). Every entry is stored with the revisions it was read at: the case's `rev`
//! column and the `users_rev` setting, which triggers in the database bump in the same
//! transaction as any change to what a case's view and page show beyond the case row
//! (migrations `*_case_rev`). Each request reads both with the case row, in the statement that
//! checks who may see the case, and takes an entry only when both are the same; so a change
//! made by any instance sharing the database is seen by the next request, and the cache never
//! decides who sees what. Bounded by an estimate of its bytes (`database.case_cache_mb`),
//! least recently and least often used first out. Below `app` so that `AppState` can hold it:
//! what an entry holds is the app's business (type-erased here).

use std::any::Any;
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// The setting the database bumps when a person's name or whether their account is active
/// changes.
pub const USERS_REV_KEY: &str = "users_rev";

/// The revisions a record of a case was read at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseRev {
    /// `cases.rev`.
    pub case: i64,
    /// The `users_rev` setting (none until a name or an account's state first changes).
    pub users: Option<String>,
}

type Key = (&'static str, String);

#[derive(Clone)]
struct Entry {
    rev: CaseRev,
    weight: u64,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Clone)]
struct ByWeight;

impl Weighter<Key, Entry> for ByWeight {
    fn weight(&self, _key: &Key, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// Records of cases by kind and case id, each valid at one [`CaseRev`].
pub struct RevCache {
    cache: Option<Cache<Key, Entry, ByWeight>>,
}

/// An entry's weight when its estimate is smaller: what any entry costs in the cache itself.
const MIN_WEIGHT: u64 = 256;

impl RevCache {
    /// A cache of about `bytes` (estimated as each record says); none at 0.
    pub fn new(bytes: u64) -> RevCache {
        RevCache {
            cache: (bytes > 0).then(|| {
                // The number of entries only sizes the table; the weight bounds the memory.
                let items = (bytes / 8192).clamp(16, 65_536) as usize;
                Cache::with_weighter(items, bytes, ByWeight)
            }),
        }
    }

    /// The record of `kind` for case `id` if one was read at `rev`; else `load` reads it (and
    /// its estimated size in bytes) and it is kept for the next request at the same revision.
    pub fn get_or_load<T, E>(
        &self,
        kind: &'static str,
        id: &str,
        rev: &CaseRev,
        load: impl FnOnce() -> Result<(T, u64), E>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        let Some(cache) = &self.cache else {
            return load().map(|(value, _)| Arc::new(value));
        };
        let key: Key = (kind, id.to_string());
        if let Some(entry) = cache.get(&key) {
            if entry.rev == *rev {
                if let Ok(value) = entry.value.downcast::<T>() {
                    return Ok(value);
                }
            }
        }
        let (value, weight) = load()?;
        let value = Arc::new(value);
        cache.insert(
            key,
            Entry {
                rev: rev.clone(),
                weight: weight.max(MIN_WEIGHT),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// Entries held now (for tests and figures).
    pub fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(case: i64) -> CaseRev {
        CaseRev {
            case,
            users: Some("1".into()),
        }
    }

    #[test]
    fn an_entry_serves_only_its_own_revision() {
        let cache = RevCache::new(1 << 20);
        let mut loads = 0;
        let mut get = |r: &CaseRev, v: &str| {
            cache
                .get_or_load("t", "case-1", r, || {
                    loads += 1;
                    Ok::<_, ()>((v.to_string(), 10))
                })
                .unwrap()
                .to_string()
        };
        assert_eq!(get(&rev(1), "a"), "a");
        assert_eq!(get(&rev(1), "b"), "a", "same revision: from memory");
        assert_eq!(get(&rev(2), "c"), "c", "the case changed: read again");
        let other_users = CaseRev {
            case: 2,
            users: Some("2".into()),
        };
        assert_eq!(get(&other_users, "d"), "d", "a name changed: read again");
        assert_eq!(loads, 3);
    }

    #[test]
    fn kinds_are_apart_and_a_failed_load_keeps_nothing() {
        let cache = RevCache::new(1 << 20);
        let r = rev(1);
        let n = cache
            .get_or_load("numbers", "c", &r, || Ok::<_, ()>((7u32, 1)))
            .unwrap();
        assert_eq!(*n, 7);
        let s = cache
            .get_or_load("text", "c", &r, || Ok::<_, ()>(("x".to_string(), 1)))
            .unwrap();
        assert_eq!(*s, "x");
        assert!(cache
            .get_or_load::<u32, _>("failed", "c", &r, || Err("no"))
            .is_err());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_weight_bounds_what_is_kept_and_zero_keeps_nothing() {
        let cache = RevCache::new(64 * 1024);
        for i in 0..1000 {
            cache
                .get_or_load("t", &format!("case-{i}"), &rev(1), || {
                    Ok::<_, ()>((i, 4096))
                })
                .unwrap();
        }
        assert!(
            cache.len() <= 16,
            "{} entries of 4 kB in 64 kB",
            cache.len()
        );
        let off = RevCache::new(0);
        let mut loads = 0;
        for _ in 0..2 {
            off.get_or_load("t", "c", &rev(1), || {
                loads += 1;
                Ok::<_, ()>((1, 1))
            })
            .unwrap();
        }
        assert_eq!((loads, off.len()), (2, 0));
    }
}
