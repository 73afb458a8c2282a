//! The fuzz targets on a stable toolchain, where libFuzzer's instrumentation is not to be had: each target replays
//! its seeds (and the corpus `cargo fuzz run` keeps, when there is one), then runs mutations of them drawn from a
//! fixed-seed generator. Not coverage-guided as `cargo fuzz run` is, but it runs wherever `cargo test` does.
//!
//! `PYTESTD_FUZZ_CASES` sets the mutations per target (default 20 000), `PYTESTD_FUZZ_SEED` the generator's seed. A
//! failing input is written to `artifacts/<target>/harness-<seed>-<case>`, where `cargo fuzz run <target> <file>`
//! replays it too.

use std::fs;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Pieces worth splicing in: the tokens each parser branches on.
const TOKENS: &[&[u8]] = &[
    b"Content-Length: ",
    b"content-length:",
    b"Content-Type: x\r\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b"\\ud800",
    b"\\u0041",
    b"\xff",
    b"\xa7",
    b":",
    b",",
    b"0",
    b"4294967296",
    b"-1",
    b"1e400",
    b"null",
    b"\"id\":",
    b"\"method\":\"$/x\"",
    b"\"type\":\"report\"",
    b"\"type\":\"hello\"",
    b"\"nodeid\":\"t.py::a\"",
    b"\"when\":\"teardown\"",
    b"\"cwd\":\"/\"",
    b"\"testIds\":[\"a\"]",
    b"\"maxParallel\":0",
    b"\"env\":{\"A\":\"b\"}",
];

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, (rng.next() & 0xff) as u8),
            2 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
        }
    }
    data
}

fn inputs_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| fs::read(p).ok()).collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `target` on its seeds, its corpus and mutations; a failing input is kept before the panic goes on.
fn fuzz(name: &str, target: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = inputs_in(&root.join("seeds").join(name));
    assert!(!seeds.is_empty(), "no seeds in seeds/{name}");
    let corpus = inputs_in(&root.join("corpus").join(name));
    let cases = env_number("PYTESTD_FUZZ_CASES", 20_000);
    let seed = env_number("PYTESTD_FUZZ_SEED", 0x5eed);
    let mut rng = Rng(seed | 1);
    let pool: Vec<Vec<u8>> = seeds.iter().chain(&corpus).cloned().collect();
    let fixed = pool.len() as u64;
    for case in 0..fixed + cases {
        let input = match usize::try_from(case).ok().and_then(|i| pool.get(i)) {
            Some(input) => input.clone(),
            None => mutate(&mut rng, &pool),
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&input))) {
            let dir = root.join("artifacts").join(name);
            let file = dir.join(format!("harness-{seed}-{case}"));
            let _ = fs::create_dir_all(&dir).and_then(|()| fs::write(&file, &input));
            eprintln!("{name}: case {case} failed; its input is in {}", file.display());
            resume_unwind(panic);
        }
    }
    eprintln!(
        "{name}: {} cases ({} seeds, {} from the corpus, {cases} mutations)",
        fixed + cases,
        seeds.len(),
        corpus.len()
    );
}

#[test]
fn framing() {
    fuzz("framing", pytestd_fuzz::framing);
}

#[test]
fn plugin_lines() {
    fuzz("plugin_lines", pytestd_fuzz::plugin_lines);
}

#[test]
fn params() {
    fuzz("params", pytestd_fuzz::params);
}
