//! The GC flavours the model can play (Server, Workstation) and the static tuning each one
//! derives from the machine: heap count, per-generation minimum and maximum budgets, growth
//! limits, the promotion threshold factor and time-based escalation.
//!
//! Everything here is computed once, when a model is built. The figures come from
//! `docs/dotnet-gc-model.md` ("Gen0 budget", "Model"), which quotes dotnet/runtime
//! `init.cpp` (`get_gen0_min_size`, `init_static_data`) and the balanced latency row of
//! `static_data_table`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::machine::MachineSpec;

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// Which .NET GC flavour to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Server GC: one heap per core, gen0 budget from the whole L3 per heap, up to 200 MB
    /// per heap. ASP.NET Core's default.
    Server,
    /// Workstation GC with background GC on: one heap, gen0 budget from 4/5 of the L3,
    /// capped at 6 MB unless the minimum is larger; time-based gen1/gen2 escalation.
    Workstation,
}

impl Preset {
    /// Lower-case name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Server => "server",
            Preset::Workstation => "workstation",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.trim().to_ascii_lowercase().as_str() {
            "server" => Ok(Preset::Server),
            "workstation" => Ok(Preset::Workstation),
            _ => Err(format!(
                "invalid gc preset \"{input}\": expected server or workstation"
            )),
        }
    }
}

/// Knobs of the model that are not facts about the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcOptions {
    /// Multiply the L3 size by 3 for the server gen0 budget, as .NET Core 2.x did on
    /// Windows/Intel x64 (the article's runtime): 20 MB L3 × 8 cores → 300 MB. Workstation
    /// never used the factor (it reads the true cache size).
    pub core2x_factor: bool,
    /// Bytes of small, request-lived objects that ASP.NET Core itself allocates per request
    /// (routing, `HttpContext` features, MVC action context, formatters), added to every
    /// request's declared allocations.
    pub framework_overhead_bytes: u64,
}

impl GcOptions {
    /// Default framework overhead: 10 KiB per request. A calibration, not a measurement:
    /// it is what makes the article's "gen0 about every 2 s at ~5K RPS of 20 KB strings"
    /// come out (300 MB ÷ (5,000 × 30.7 KB) ≈ 2.0 s), and MVC's own per-request
    /// allocations are of that order.
    pub const DEFAULT_FRAMEWORK_OVERHEAD_BYTES: u64 = 10 * 1024;

    /// The article's runtime: .NET Core 2.x factor on, default overhead.
    pub fn article() -> Self {
        GcOptions {
            core2x_factor: true,
            framework_overhead_bytes: Self::DEFAULT_FRAMEWORK_OVERHEAD_BYTES,
        }
    }
}

impl Default for GcOptions {
    /// Today's runtime (no L3 factor), default overhead.
    fn default() -> Self {
        GcOptions {
            core2x_factor: false,
            framework_overhead_bytes: Self::DEFAULT_FRAMEWORK_OVERHEAD_BYTES,
        }
    }
}

/// Growth limits of one generation's budget (`limit`, `max_limit` in `static_data_table`):
/// the budget is `f × survivors`, with `f` from `limit` (no survival) to `max_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GrowthLimits {
    pub limit: f64,
    pub max_limit: f64,
}

/// Static tuning of one preset on one machine. Indexes of the arrays: gen0, gen1, gen2, LOH.
/// Budgets are totals over all heaps (the model keeps one aggregate heap).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuning {
    pub preset: Preset,
    /// GC heaps: cores for Server, 1 for Workstation.
    pub heaps: u32,
    /// Minimum budget per generation in bytes (also the first budget).
    pub min_budget_bytes: [f64; 4],
    /// Maximum budget per generation in bytes (`f64::INFINITY` for gen2 and the LOH).
    pub max_budget_bytes: [f64; 4],
    pub growth: [GrowthLimits; 4],
    /// Factor of the "is promotion worth it" threshold: 0.10 with several heaps, 0.06 with one.
    pub promotion_factor: f64,
    /// Workstation + background GC: condemn gen1 after 10 s and 10 GCs without one, gen2
    /// after 100 s and 100 GCs.
    pub time_escalation: bool,
}

/// Server segment size assumed for the caps that depend on it (gen0 max `min(seg/2, 200 MB)`,
/// gen1 max `seg/2`): 1 GiB, the smallest 64-bit server segment of .NET Core 2.x. Only gen1's
/// cap (512 MiB per heap) depends on it, and no workload here reaches it.
pub const SERVER_SEGMENT_BYTES: f64 = 1024.0 * MIB;

impl Tuning {
    /// Derives the tuning the way `get_gen0_min_size` and `init_static_data` do.
    pub fn new(preset: Preset, machine: &MachineSpec, options: &GcOptions) -> Self {
        let l3 = machine.l3_bytes as f64;
        let memory = machine.memory_bytes as f64;
        let floor = 256.0 * KIB;
        let (heaps, gen0_min_per_heap, gen0_max_per_heap, gen1_max_per_heap) = match preset {
            Preset::Server => {
                let heaps = machine.cores.max(1);
                let factor = if options.core2x_factor { 3.0 } else { 1.0 };
                let gen0 = gen0_min_size(
                    (factor * l3).max(floor),
                    l3.max(floor),
                    f64::from(heaps),
                    memory,
                );
                let gen0_max = (6.0 * MIB).max((SERVER_SEGMENT_BYTES / 2.0).min(200.0 * MIB));
                let gen1_max = (6.0 * MIB).max(SERVER_SEGMENT_BYTES / 2.0);
                (heaps, gen0, gen0_max, gen1_max)
            }
            Preset::Workstation => {
                let gen0 = gen0_min_size((4.0 * l3 / 5.0).max(floor), l3.max(floor), 1.0, memory);
                // Background GC on (the default): 6 MB caps for gen0 and gen1.
                (1, gen0, 6.0 * MIB, 6.0 * MIB)
            }
        };
        // init_static_data: the max is raised to the min when the min is larger.
        let gen0_max_per_heap = gen0_max_per_heap.max(gen0_min_per_heap);
        let h = f64::from(heaps);
        let (gen0_limits, promotion_factor, time_escalation) = match preset {
            Preset::Server => ((20.0, 40.0), 0.10, false),
            Preset::Workstation => ((9.0, 20.0), 0.06, true),
        };
        let limits = |(limit, max_limit): (f64, f64)| GrowthLimits { limit, max_limit };
        Tuning {
            preset,
            heaps,
            min_budget_bytes: [h * gen0_min_per_heap, h * floor, h * floor, h * 3.0 * MIB],
            max_budget_bytes: [
                h * gen0_max_per_heap,
                h * gen1_max_per_heap,
                f64::INFINITY,
                f64::INFINITY,
            ],
            growth: [
                limits(gen0_limits),
                limits((2.0, 7.0)),
                limits((1.2, 1.8)),
                limits((1.25, 4.5)),
            ],
            promotion_factor,
            time_escalation,
        }
    }
}

/// Per-heap gen0 minimum budget: start from `gen0_bytes`, halve while the total over all
/// heaps exceeds a sixth of memory (but not below the true cache size), then take 5/8.
fn gen0_min_size(gen0_bytes: f64, true_cache_bytes: f64, heaps: f64, memory_bytes: f64) -> f64 {
    let mut gen0 = gen0_bytes;
    while gen0 * heaps > memory_bytes / 6.0 {
        gen0 /= 2.0;
        if gen0 <= true_cache_bytes {
            gen0 = true_cache_bytes;
            break;
        }
    }
    gen0 * 5.0 / 8.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(preset: Preset, core2x: bool) -> Tuning {
        let options = GcOptions {
            core2x_factor: core2x,
            ..GcOptions::default()
        };
        Tuning::new(preset, &MachineSpec::article(), &options)
    }

    #[test]
    fn article_server_gen0_budget_is_300_mib_with_the_core2x_factor() {
        // 8 heaps × 3 × 20 MiB × 5/8 = 300 MiB.
        let tuning = article(Preset::Server, true);
        assert_eq!(tuning.heaps, 8);
        assert_eq!(
            tuning.min_budget_bytes[0],
            8.0 * 3.0 * 20.0 * MIB * 5.0 / 8.0
        );
        assert_eq!(tuning.min_budget_bytes[0], 300.0 * MIB);
        // Today's runtime: a third of that.
        assert_eq!(
            article(Preset::Server, false).min_budget_bytes[0],
            100.0 * MIB
        );
        assert_eq!(tuning.max_budget_bytes[0], 8.0 * 200.0 * MIB);
        assert_eq!(tuning.min_budget_bytes[3], 8.0 * 3.0 * MIB);
    }

    #[test]
    fn article_workstation_gen0_budget_is_10_mib_with_or_without_the_factor() {
        // 4/5 × 20 MiB × 5/8 = 10 MiB; the factor only ever applied to Server.
        for core2x in [false, true] {
            let tuning = article(Preset::Workstation, core2x);
            assert_eq!(tuning.heaps, 1);
            assert_eq!(tuning.min_budget_bytes[0], 10.0 * MIB);
            // The 6 MB cap is raised to the 10 MB minimum.
            assert_eq!(tuning.max_budget_bytes[0], 10.0 * MIB);
            assert_eq!(tuning.max_budget_bytes[1], 6.0 * MIB);
            assert!(tuning.time_escalation);
        }
    }

    #[test]
    fn small_memory_halves_the_server_budget_down_to_the_cache_size() {
        // 8 heaps × 60 MiB = 480 MiB > 1 GiB / 6 → halve to 30 MiB (240 MiB > 170 MiB),
        // halving again would go to 15 MiB ≤ 20 MiB, so it stops at the true 20 MiB.
        let machine = MachineSpec {
            memory_bytes: 1024 * 1024 * 1024,
            ..MachineSpec::article()
        };
        let tuning = Tuning::new(Preset::Server, &machine, &GcOptions::article());
        assert_eq!(tuning.min_budget_bytes[0], 8.0 * 20.0 * MIB * 5.0 / 8.0);
    }

    #[test]
    fn tiny_caches_get_the_256_kib_floor() {
        let machine = MachineSpec {
            l3_bytes: 64 * 1024,
            cores: 2,
            memory_bytes: 1 << 34,
        };
        let tuning = Tuning::new(Preset::Workstation, &machine, &GcOptions::default());
        assert_eq!(tuning.min_budget_bytes[0], 256.0 * KIB * 5.0 / 8.0);
    }

    #[test]
    fn presets_parse_and_bad_names_are_quoted() {
        assert_eq!("Server".parse::<Preset>(), Ok(Preset::Server));
        assert_eq!("workstation".parse::<Preset>(), Ok(Preset::Workstation));
        let err = "concurrent".parse::<Preset>().unwrap_err();
        assert!(err.contains("\"concurrent\""), "{err}");
    }
}
