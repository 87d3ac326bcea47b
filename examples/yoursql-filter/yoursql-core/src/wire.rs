//! What the host hands the `ssdlet-yoursql` module (see `examples/yoursql-filter/ssdlet-yoursql`):
//! a match plan as SSDlet arguments, and the messages coming back.
//!
//! - keys: a `str` argument, each key in lower-case hex, keys separated by `,`
//!   (`c2 07 cb 01 11` -> `"c207cb0111"`);
//! - mode: a `bool` argument, `true` for `MatchMode::All` (a page must hold every key),
//!   `false` for `Any`;
//! - `filter` output: [`HintMessage`] per matcher request;
//! - `sampler` output: one `(pages sampled, pages hinted)`.

use sim_nvme::MatchMode;

use crate::keys::MatchPlan;

/// One hint message of the `filter` SSDlet: the first page of the pages it covers, how many
/// pages it covers, and the hinted pages among them as offsets from the first.
pub type HintMessage = (u64, u64, Vec<u32>);

/// The plan's keys and mode as the module's arguments.
pub fn encode_plan(plan: &MatchPlan) -> (String, bool) {
    let keys: Vec<String> = plan
        .keys
        .iter()
        .map(|k| k.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    (keys.join(","), plan.mode == MatchMode::All)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_encode_as_hex() {
        let plan = MatchPlan {
            keys: vec![vec![0xC2, 0x07, 0xCB, 0x01, 0x11], b"AIR\0".to_vec()],
            mode: MatchMode::All,
            exact: true,
        };
        assert_eq!(encode_plan(&plan), ("c207cb0111,41495200".to_string(), true));
    }
}
