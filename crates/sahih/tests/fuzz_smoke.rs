//! A short deterministic smoke of every fuzz target (`fuzz/entries.rs`, the same bodies the
//! coverage-guided fuzzers run): each checked-in seed under `fuzz/seeds/<target>/`, then a
//! fixed sequence of mutations of it (bit flips, cuts, splices, inserted and repeated bytes)
//! and random inputs. Nothing may panic. The long runs and their counts are in
//! docs/ARCHITECTURE.md ("Fuzzing record").

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

#[path = "../../../fuzz/entries.rs"]
mod entries;

use std::path::Path;

/// Mutations per seed; with the seeds this is a few thousand inputs per target.
const MUTATIONS: usize = 2000;

/// xorshift64*: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(seed: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(at),
            2 => {
                let from = rng.below(other.len() + 1);
                let len = rng.below(64).min(other.len() - from);
                v.splice(at..at, other[from..from + len].iter().copied());
            }
            3 => v.insert(
                at,
                [0x00, 0xff, 0x7f, 0x80, b'"', b'\\', b'0'][rng.below(7)],
            ),
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0x00, 0xff, 0x81, 0x82, 0x84, 0x30, 0xa0][rng.below(7)];
            }
            5 if at < v.len() => {
                let len = rng.below(32).min(v.len() - at);
                let piece: Vec<u8> = v[at..at + len].to_vec();
                for _ in 0..rng.below(8) {
                    v.splice(at..at, piece.iter().copied());
                }
            }
            _ => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
        }
    }
    v
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_their_mutations() {
    let mut rng = Rng(0x5a41_4849_4831_3400);
    for (name, target) in entries::TARGETS {
        let mut inputs = seeds(name);
        // Targets without checked-in seeds (the PDF ones) start from a minimal file.
        if inputs.is_empty() {
            inputs.push(
                b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
                    .to_vec(),
            );
        }
        let mut runs = 0usize;
        for (i, seed) in inputs.iter().enumerate() {
            target(seed);
            let other = &inputs[(i + 1) % inputs.len()];
            for _ in 0..MUTATIONS {
                target(&mutate(seed, other, &mut rng));
                runs += 1;
            }
        }
        for len in [0usize, 1, 2, 7, 64, 1000] {
            let random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            target(&random);
            runs += 1;
        }
        assert!(runs >= MUTATIONS, "{name}: only {runs} inputs");
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "fuzz smoke {name}: {} seeds, {runs} inputs",
            inputs.len()
        );
    }
}
