//! `membench explain TOPIC`: plain text about a part of membench, printed on stdout. The
//! text lives next to the code it explains (e.g. `src/gcmodel/explain.txt`), so the two
//! cannot drift apart.

use super::Outcome;
use crate::cli::{ExplainArgs, ExplainTopic};

pub fn explain(args: ExplainArgs) -> anyhow::Result<Outcome> {
    match args.topic {
        ExplainTopic::GcModel => print!("{}", crate::gcmodel::explain()),
    }
    Ok(Outcome::Success)
}
