//! Pointer chasing near the data (Biscuit's evaluation): each hop is a data-dependent 4 KiB
//! internal read, so only the paths cross PCIe.
//!
//! | id | args | inputs | outputs | does |
//! |---|---|---|---|---|
//! | `chase` | `graph: file`, `hops: u64` | `starts: u64` | `paths: Vec<u64>` | for each start node, reads `hops` adjacency pages, sends the visited nodes (start included) |
//!
//! The graph file is the adjacency-page format of `ndp_data::gen::graph`: node `i` owns
//! 4 KiB page `i` (`degree: u32 LE`, 4 reserved bytes, `degree` neighbour ids as `u32 LE`).
//! At hop `h` of the walk from `start` the next node is neighbour `mix(start ^ (h << 40)) %
//! degree` ([`next_hop`], a copy of `ndp_data::gen::graph::next_hop`: the `pointer-chase`
//! crate's tests check that both give the same paths). Walks are processed one after another,
//! as the host's conventional baseline does at queue depth 1.

use ssdlet_sdk::{Context, File, Input, Output, Ssdlet, SsdletError};

/// Bytes in one adjacency page.
pub const PAGE: usize = 4096;
/// Most neighbours a page holds.
pub const MAX_DEGREE: usize = (PAGE - 8) / 4;

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn le_u32(page: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&page[at..at + 4]);
    u32::from_le_bytes(b)
}

// INVARIANT(baselines-not-shared): a copy of ndp_data::gen::graph::next_hop, on purpose
/// The neighbour a walk from `start` takes at hop `hop`, read from `node`'s page.
pub fn next_hop(page: &[u8], node: u64, start: u64, hop: u32) -> Result<u64, SsdletError> {
    if page.len() < PAGE {
        return Err(SsdletError::msg(format!(
            "adjacency page of node {node} is {} bytes; expected 4096",
            page.len()
        )));
    }
    let degree = le_u32(page, 0) as usize;
    if degree == 0 || degree > MAX_DEGREE {
        return Err(SsdletError::msg(format!(
            "adjacency page of node {node} has degree {degree}; expected 1..={MAX_DEGREE}"
        )));
    }
    let k = (mix(start ^ (u64::from(hop) << 40)) % degree as u64) as usize;
    Ok(u64::from(le_u32(page, 8 + 4 * k)))
}

/// Chases `hops` hops from each start node it receives.
pub struct Chase;
impl Ssdlet for Chase {
    type Args = (File, u64);
    type Inputs = (Input<u64>,);
    type Outputs = (Output<Vec<u64>>,);
    const ARG_NAMES: &'static [&'static str] = &["graph", "hops"];
    const INPUT_NAMES: &'static [&'static str] = &["starts"];
    const OUTPUT_NAMES: &'static [&'static str] = &["paths"];
    fn run(
        _: &Context,
        (graph, hops): (File, u64),
        (mut starts,): Self::Inputs,
        (mut paths,): Self::Outputs,
    ) -> Result<(), SsdletError> {
        let hops = u32::try_from(hops)
            .map_err(|_| SsdletError::msg(format!("hops = {hops}; expected at most {}", u32::MAX)))?;
        let nodes = graph.len()? / PAGE as u64;
        let mut page = vec![0u8; PAGE];
        while let Some(start) = starts.get() {
            let mut path = Vec::with_capacity(hops as usize + 1);
            let mut node = start;
            path.push(node);
            for hop in 0..hops {
                if node >= nodes {
                    return Err(SsdletError::msg(format!(
                        "node {node} (walk from {start}, hop {hop}) is outside the graph of {nodes} nodes"
                    )));
                }
                graph.read_exact_at(node * PAGE as u64, &mut page)?;
                node = next_hop(&page, node, start, hop)?;
                path.push(node);
            }
            if paths.put(path).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "pointer-chase",
    ssdlets: { "chase" => Chase },
}
