//! A power-law graph stored as adjacency pages, for pointer chasing.
//!
//! Node `i` owns one 4 KiB page (block `i` of the graph file): `degree: u32 LE`, 4 reserved
//! bytes, then `degree` neighbour ids (`u32 LE`), zero padding. Out-degrees follow a power law
//! over `1..=MAX_DEGREE` (every node has at least one neighbour, so walks never stop early);
//! neighbours are drawn from a Zipf distribution over a seeded permutation of the nodes, so a
//! few nodes are very popular and they are scattered over the device, as in a social graph.
//! Each page is a pure function of `(seed, node)`: a 20 GiB graph is generated page by page,
//! never held in memory.
//!
//! A walk from `start` makes `hops` data-dependent reads: at hop `h` it reads the current
//! node's page and moves to neighbour `mix(start, h) % degree`.

use super::text::Zipf;

/// Bytes in one adjacency page.
pub const PAGE: usize = 4096;
/// Most neighbours a page holds.
pub const MAX_DEGREE: usize = (PAGE - 8) / 4;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSpec {
    /// Nodes (= pages). Unit: count, at least 2, below 2^32.
    pub nodes: u64,
    /// Power-law exponent of the out-degree distribution. Default 2.0.
    pub degree_exponent: f64,
    /// Zipf exponent of neighbour popularity. Default 0.8.
    pub popularity_exponent: f64,
    /// Seed.
    pub seed: u64,
}

/// Why a graph cannot be generated or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    /// The node count is unusable.
    #[error("graph of {0} nodes: expected 2 to 2^32 - 1 nodes")]
    Nodes(u64),
    /// A page that does not hold a valid adjacency list.
    #[error("adjacency page of node {node} is malformed: {what}")]
    BadPage {
        /// The node whose page it is.
        node: u64,
        /// What is wrong.
        what: &'static str,
    },
}

impl GraphSpec {
    /// A graph of `bytes / 4096` nodes with the default exponents.
    pub fn with_bytes(bytes: u64, seed: u64) -> Self {
        GraphSpec {
            nodes: bytes / PAGE as u64,
            degree_exponent: 2.0,
            popularity_exponent: 0.8,
            seed,
        }
    }
}

/// A generator of adjacency pages.
pub struct Graph {
    spec: GraphSpec,
    degrees: Zipf,
    popularity: Zipf,
    /// Popularity rank to node: a seeded permutation (an affine map mod `nodes`).
    perm: (u64, u64),
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Graph {
    /// A generator for `spec`.
    pub fn new(spec: GraphSpec) -> Result<Self, GraphError> {
        if spec.nodes < 2 || spec.nodes > u64::from(u32::MAX) {
            return Err(GraphError::Nodes(spec.nodes));
        }
        let n = spec.nodes;
        // Popularity ranks are capped: beyond 1 M ranks the tail is flat enough to be uniform.
        let ranks = n.min(1 << 20) as usize;
        let mut a = mix(spec.seed) % n;
        while a == 0 || gcd(a, n) != 1 {
            a = (a + 1) % n;
        }
        Ok(Graph {
            degrees: Zipf::new(MAX_DEGREE, spec.degree_exponent),
            popularity: Zipf::new(ranks, spec.popularity_exponent),
            perm: (a, mix(spec.seed ^ 1) % n),
            spec,
        })
    }

    /// Nodes in the graph.
    pub fn nodes(&self) -> u64 {
        self.spec.nodes
    }

    /// The adjacency page of `node`.
    pub fn page(&self, node: u64) -> [u8; PAGE] {
        let mut rng = fastrand::Rng::with_seed(mix(self.spec.seed ^ mix(node)));
        let degree = self.degrees.rank(rng.f64()) + 1;
        let n = self.spec.nodes;
        let ranks = n.min(1 << 20);
        let mut page = [0u8; PAGE];
        page[..4].copy_from_slice(&(degree as u32).to_le_bytes());
        for k in 0..degree {
            // A popular rank, spread over the whole node range, then permuted.
            let rank = self.popularity.rank(rng.f64()) as u64;
            let spread = rank + ranks * rng.u64(0..n.div_ceil(ranks));
            let target = (self.perm.0.wrapping_mul(spread % n) + self.perm.1) % n;
            page[8 + 4 * k..12 + 4 * k].copy_from_slice(&(target as u32).to_le_bytes());
        }
        page
    }
}

/// The neighbour a walk from `start` takes at hop `hop`, read from the current node's page.
pub fn next_hop(page: &[u8], node: u64, start: u64, hop: u32) -> Result<u64, GraphError> {
    let bad = |what| GraphError::BadPage { node, what };
    if page.len() < PAGE {
        return Err(bad("shorter than 4096 bytes"));
    }
    let degree = u32::from_le_bytes(page[..4].try_into().expect("4 bytes")) as usize;
    if degree == 0 || degree > MAX_DEGREE {
        return Err(bad("degree outside 1..=1022"));
    }
    let k = (mix(start ^ (u64::from(hop) << 40)) % degree as u64) as usize;
    Ok(u64::from(u32::from_le_bytes(
        page[8 + 4 * k..12 + 4 * k].try_into().expect("4 bytes"),
    )))
}

/// The `n` start nodes of a run (seeded, distinct when the graph is large enough).
pub fn start_nodes(graph_nodes: u64, n: usize, seed: u64) -> Vec<u64> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5747_4152_5453);
    (0..n).map(|_| rng.u64(0..graph_nodes)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_deterministic_and_valid() {
        let g = Graph::new(GraphSpec::with_bytes(4096 * 5000, 3)).unwrap();
        for node in [0, 1, 4999] {
            let p = g.page(node);
            assert_eq!(p, g.page(node));
            let degree = u32::from_le_bytes(p[..4].try_into().unwrap()) as usize;
            assert!((1..=MAX_DEGREE).contains(&degree));
            for k in 0..degree {
                let t = u32::from_le_bytes(p[8 + 4 * k..12 + 4 * k].try_into().unwrap());
                assert!(u64::from(t) < g.nodes());
            }
            assert!(p[8 + 4 * degree..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn degrees_and_popularity_are_skewed() {
        let g = Graph::new(GraphSpec::with_bytes(4096 * 20_000, 5)).unwrap();
        let mut indegree = vec![0u32; 20_000];
        let mut degrees = Vec::new();
        for node in 0..20_000 {
            let p = g.page(node);
            let d = u32::from_le_bytes(p[..4].try_into().unwrap()) as usize;
            degrees.push(d);
            for k in 0..d {
                indegree[u32::from_le_bytes(p[8 + 4 * k..12 + 4 * k].try_into().unwrap()) as usize] += 1;
            }
        }
        degrees.sort_unstable();
        assert_eq!(
            degrees[degrees.len() / 2],
            1,
            "median out-degree of a power law with exponent 2"
        );
        assert!(*degrees.last().unwrap() > 100);
        indegree.sort_unstable();
        assert!(indegree[indegree.len() - 1] > 50 * indegree[indegree.len() / 2].max(1));
    }

    #[test]
    fn bad_specs_and_pages_are_errors() {
        assert_eq!(
            Graph::new(GraphSpec::with_bytes(4096, 1)).err(),
            Some(GraphError::Nodes(1))
        );
        let zero = [0u8; PAGE];
        assert!(matches!(
            next_hop(&zero, 7, 0, 0),
            Err(GraphError::BadPage { node: 7, .. })
        ));
        assert!(matches!(
            next_hop(&zero[..10], 7, 0, 0),
            Err(GraphError::BadPage { .. })
        ));
    }
}
