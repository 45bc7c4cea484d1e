//! What each pattern request would allocate in .NET, read once from the built-in scenario
//! files' `[dotnet]` sections (`scenarios/*.toml`, the one place it is declared), keyed by
//! the scenario's route template (`/api/loh/{size}`).
//!
//! A handler records by route (`ManagedTally::record`), so a new pattern declares its
//! .NET allocations in its scenario file only. Lengths that depend on `{size}` are turned
//! into a template once, when the server starts: the length at size 0 plus a per-byte
//! factor, checked to be linear. A sized request then computes its allocation with one
//! multiplication and allocates nothing.

use std::collections::HashMap;

use crate::gcmodel::{ManagedAllocation, ManagedKind};
use crate::params::SIZE_PARAM;
use crate::scenario::{self, Scenario};

/// One declared allocation, its length a function of the request's size.
#[derive(Debug, Clone, Copy)]
struct Template {
    /// The allocation at size 0.
    at_zero: ManagedAllocation,
    /// How much the length grows per byte of size (0 when it does not use `{size}`).
    per_size: u64,
}

/// What one route's request allocates in .NET.
#[derive(Debug, Clone, Default)]
pub(crate) struct Declared {
    templates: Box<[Template]>,
}

impl Declared {
    /// The allocations of a request of `size_bytes` (ignored by fixed declarations).
    pub(crate) fn at_size(&self, size_bytes: u64) -> impl Iterator<Item = ManagedAllocation> + '_ {
        self.templates.iter().map(move |t| {
            let length = length_of(t.at_zero.kind) + t.per_size * size_bytes;
            ManagedAllocation {
                kind: with_length(t.at_zero.kind, length),
                lifetime: t.at_zero.lifetime,
            }
        })
    }

    /// The declaration of `scenario`'s request; `None` when it has no `[dotnet]` section.
    fn of(scenario: &Scenario) -> Result<Option<Declared>, String> {
        let defaults = scenario::resolve(scenario, None, &[])
            .map_err(|err| err.to_string())?
            .params;
        let at = |size: u64| -> Result<Option<Vec<ManagedAllocation>>, String> {
            let mut params = defaults.clone();
            params.set_size_bytes(size);
            scenario.dotnet_allocations(&params).transpose()
        };
        let (Some(zero), Some(one)) = (at(0)?, at(1)?) else {
            return Ok(None);
        };
        let probe_size = 1_000_003;
        let probe = at(probe_size)?.unwrap_or_default();
        let templates = zero
            .iter()
            .zip(&one)
            .zip(&probe)
            .map(|((zero, one), probe)| {
                let base = length_of(zero.kind);
                let per_size = length_of(one.kind).saturating_sub(base);
                if base + per_size * probe_size != length_of(probe.kind) {
                    return Err(format!(
                        "scenario \"{}\": a [dotnet] length must be a number or grow linearly with {{{SIZE_PARAM}}}",
                        scenario.name
                    ));
                }
                Ok(Template {
                    at_zero: *zero,
                    per_size,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Some(Declared { templates }))
    }
}

/// The length a [`ManagedKind`] carries (characters, array length or bytes).
fn length_of(kind: ManagedKind) -> u64 {
    match kind {
        ManagedKind::String { chars } => chars,
        ManagedKind::ByteArray { len } => len,
        ManagedKind::Other { bytes } | ManagedKind::Sized { bytes, .. } => bytes,
    }
}

/// `kind` with its length replaced.
fn with_length(kind: ManagedKind, length: u64) -> ManagedKind {
    match kind {
        ManagedKind::String { .. } => ManagedKind::String { chars: length },
        ManagedKind::ByteArray { .. } => ManagedKind::ByteArray { len: length },
        ManagedKind::Other { .. } => ManagedKind::Other { bytes: length },
        ManagedKind::Sized { large, .. } => ManagedKind::Sized {
            bytes: length,
            large,
        },
    }
}

/// Every built-in scenario's declaration, by route template.
#[derive(Debug, Default)]
pub(crate) struct Declarations {
    by_route: HashMap<String, Declared>,
}

impl Declarations {
    /// Read from the embedded scenario files. They are checked by unit tests, so a broken
    /// declaration is a bug caught before release, never a run-time condition.
    pub(crate) fn builtin() -> Declarations {
        let by_route = scenario::builtin()
            .iter()
            .filter_map(|scenario| {
                let declared = Declared::of(scenario)
                    .unwrap_or_else(|err| panic!("built-in scenario is broken: {err}"))?;
                Some((route_of(scenario).to_string(), declared))
            })
            .collect();
        Declarations { by_route }
    }

    /// What a request to `route` (a route template) allocates in .NET; `None` for routes
    /// whose scenario has no `[dotnet]` section (they record nothing).
    pub(crate) fn get(&self, route: &str) -> Option<&Declared> {
        self.by_route.get(route)
    }

    /// The routes that declare something.
    #[cfg(test)]
    pub(crate) fn routes(&self) -> impl Iterator<Item = &str> {
        self.by_route.keys().map(String::as_str)
    }
}

/// The scenario's route template: its path without the query.
fn route_of(scenario: &Scenario) -> &str {
    scenario.path.split('?').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcmodel::Lifetime;

    #[test]
    fn sized_declarations_are_instantiated_arithmetically() {
        let declarations = Declarations::builtin();
        let loh = declarations.get("/api/loh/{size}").unwrap();
        let at: Vec<_> = loh.at_size(84_976).collect();
        assert_eq!(
            at,
            [ManagedAllocation {
                kind: ManagedKind::ByteArray { len: 84_976 },
                lifetime: Lifetime::Request,
            }]
        );
        let bigstring: Vec<_> = declarations
            .get("/api/bigstring")
            .unwrap()
            .at_size(7)
            .collect();
        assert_eq!(bigstring[0].kind, ManagedKind::String { chars: 10_240 });
        assert!(
            declarations.get("/api/ping").is_none(),
            "ping declares nothing"
        );
    }

    #[test]
    fn every_declaring_route_is_one_the_server_answers() {
        let known = crate::server::known_routes();
        for route in Declarations::builtin().routes() {
            assert!(known.contains(&route), "{route} is not a server route");
        }
    }
}
