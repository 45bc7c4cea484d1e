//! What a request would allocate in .NET, and how big that is on the managed heap.
//!
//! Each pattern endpoint declares its *managed-equivalent* allocations: the objects the same
//! request allocates in the ASP.NET Core sample app (a 10,240-char string for `bigstring`, a
//! `byte[size]` for `loh/{size}`, …) and how long they live. This file owns the 64-bit CoreCLR
//! object layout that turns such a declaration into heap bytes and decides small-object heap
//! (SOH) versus large-object heap (LOH). Facts from `docs/dotnet-gc-model.md`
//! ("Sizes (64-bit) and LOH threshold"): `LARGE_OBJECT_SIZE = 85000` (gc.h); a `byte[n]` is a
//! 24-byte base plus `n`, tested against the threshold *before* 8-byte rounding; a string of
//! `n` UTF-16 chars is a 22-byte base plus `2n`, rounded up to 8 *before* the test.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Objects of at least this many bytes go to the .NET large-object heap (`LARGE_OBJECT_SIZE`
/// in gc.h): the one place membench writes the 85,000 B threshold.
pub const LOH_THRESHOLD_BYTES: u64 = 85_000;
/// `byte[]` base size: 8 header + 8 method table + 4 length + 4 padding.
pub const BYTE_ARRAY_BASE_BYTES: u64 = 24;
/// `string` base size: 8 header + 8 method table + 4 length + 2 terminating NUL.
pub const STRING_BASE_BYTES: u64 = 22;
/// Object alignment on 64-bit.
pub const OBJECT_ALIGNMENT_BYTES: u64 = 8;

/// The kind and length of one managed object (or, for [`ManagedKind::Other`], of a group of
/// small objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedKind {
    /// `new string('x', chars)`: UTF-16, `22 + 2 × chars` bytes rounded up to 8.
    String { chars: u64 },
    /// `new byte[len]`: `24 + len` bytes; LOH when that is ≥ 85,000 (before rounding).
    ByteArray { len: u64 },
    /// Small objects totalling `bytes` (framework objects, collection nodes, …). Always on
    /// the SOH: it stands for many objects each far below the LOH threshold. Use
    /// [`ManagedKind::ByteArray`] for one large buffer. Rounded up to 8.
    Other { bytes: u64 },
    /// Objects already sized and sorted by [`ManagedKind::managed_size`], summed: `bytes` on
    /// the LOH when `large`, else on the SOH. Taken as is (no rounding, no threshold test:
    /// each object passed both when it was sized). This is how a server that counts what
    /// its requests allocate per heap class, instead of keeping a list per request, feeds
    /// the model (see [`super::IntervalLoad::interval_totals`]).
    Sized { bytes: u64, large: bool },
}

/// How long an allocation stays reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    /// Garbage when the request completes (the model uses the interval's mean latency).
    Request,
    /// Never garbage: the static-collection leak, the cache without expiry.
    Forever,
    /// Garbage this long after it was allocated: a cache entry's absolute expiry.
    For(Duration),
}

/// One object (or group) that a request allocates in .NET, and how long it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedAllocation {
    pub kind: ManagedKind,
    pub lifetime: Lifetime,
}

/// Which heap an object lands on, and its size there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedSize {
    /// Object size in bytes as the allocator tests it against the LOH threshold.
    pub bytes: u64,
    /// True when the object goes to the large-object heap (collected only with gen2).
    pub large: bool,
}

impl ManagedKind {
    /// The object's .NET (64-bit) size and heap. Saturates instead of overflowing for absurd
    /// lengths (which .NET would refuse anyway); such sizes are simply "large".
    pub fn managed_size(self) -> ManagedSize {
        match self {
            ManagedKind::ByteArray { len } => {
                // The LOH test happens on the unrounded size (gchelpers.cpp), so byte[84975]
                // is 84,999 bytes and stays small while byte[84976] is exactly 85,000.
                let bytes = BYTE_ARRAY_BASE_BYTES.saturating_add(len);
                ManagedSize {
                    bytes,
                    large: bytes >= LOH_THRESHOLD_BYTES,
                }
            }
            ManagedKind::String { chars } => {
                let bytes = align_up(STRING_BASE_BYTES.saturating_add(chars.saturating_mul(2)));
                ManagedSize {
                    bytes,
                    large: bytes >= LOH_THRESHOLD_BYTES,
                }
            }
            ManagedKind::Other { bytes } => ManagedSize {
                bytes: align_up(bytes),
                large: false,
            },
            ManagedKind::Sized { bytes, large } => ManagedSize { bytes, large },
        }
    }
}

impl ManagedAllocation {
    /// Shorthand for [`ManagedKind::managed_size`] of this allocation's kind.
    pub fn managed_size(&self) -> ManagedSize {
        self.kind.managed_size()
    }
}

/// Rounds up to the 8-byte object alignment, saturating at the largest aligned value.
fn align_up(bytes: u64) -> u64 {
    let mask = OBJECT_ALIGNMENT_BYTES - 1;
    bytes.checked_add(mask).map_or(!mask, |b| b & !mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(kind: ManagedKind) -> ManagedSize {
        kind.managed_size()
    }

    #[test]
    fn byte_array_crosses_to_the_loh_at_84976() {
        assert_eq!(
            size(ManagedKind::ByteArray { len: 84_975 }),
            ManagedSize {
                bytes: 84_999,
                large: false
            }
        );
        assert_eq!(
            size(ManagedKind::ByteArray { len: 84_976 }),
            ManagedSize {
                bytes: 85_000,
                large: true
            }
        );
        assert_eq!(size(ManagedKind::ByteArray { len: 0 }).bytes, 24);
    }

    #[test]
    fn string_of_10240_chars_is_20504_bytes() {
        assert_eq!(
            size(ManagedKind::String { chars: 10_240 }),
            ManagedSize {
                bytes: 20_504,
                large: false
            }
        );
    }

    #[test]
    fn strings_go_to_the_loh_from_42486_chars() {
        // 22 + 2 × 42,485 = 84,992 (already aligned): small.
        assert_eq!(
            size(ManagedKind::String { chars: 42_485 }),
            ManagedSize {
                bytes: 84_992,
                large: false
            }
        );
        // 22 + 2 × 42,486 = 84,994, rounded up to 85,000: large.
        assert_eq!(
            size(ManagedKind::String { chars: 42_486 }),
            ManagedSize {
                bytes: 85_000,
                large: true
            }
        );
    }

    #[test]
    fn other_is_rounded_and_never_large() {
        assert_eq!(
            size(ManagedKind::Other { bytes: 10_241 }),
            ManagedSize {
                bytes: 10_248,
                large: false
            }
        );
        assert!(!size(ManagedKind::Other { bytes: 1 << 30 }).large);
    }

    #[test]
    fn sized_totals_are_taken_as_they_are() {
        // Two byte[84,976] summed: 170,000 bytes, on the LOH because each one is.
        let one = size(ManagedKind::ByteArray { len: 84_976 });
        let total = size(ManagedKind::Sized {
            bytes: 2 * one.bytes,
            large: one.large,
        });
        assert_eq!(
            total,
            ManagedSize {
                bytes: 170_000,
                large: true
            }
        );
        // An odd total of small objects is not rounded, and is small however big.
        assert_eq!(
            size(ManagedKind::Sized {
                bytes: 1 << 40 | 3,
                large: false
            }),
            ManagedSize {
                bytes: 1 << 40 | 3,
                large: false
            }
        );
    }

    #[test]
    fn absurd_lengths_saturate_instead_of_overflowing() {
        let huge = size(ManagedKind::String { chars: u64::MAX });
        assert!(huge.large);
        assert_eq!(huge.bytes % OBJECT_ALIGNMENT_BYTES, 0);
        assert!(size(ManagedKind::ByteArray { len: u64::MAX }).large);
    }
}
