//! A 1 GiB object goes to S3 (moto, authentication on) and back through the streaming calls
//! (`put_file`, `get_to_file`) while this process's peak resident memory stays under 64 MiB:
//! the proof that no object is ever held whole. A test binary of its own, so that no other
//! test's memory counts.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use aws_lc_rs::digest;
use sahih_core::store::BlobStore;
use std::io::{Read, Write};

mod moto;

const SIZE: u64 = 1024 * 1024 * 1024;
const PEAK_LIMIT_KIB: u64 = 64 * 1024;

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn sha256_of(path: &std::path::Path) -> Vec<u8> {
    let mut f = std::fs::File::open(path).unwrap();
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return ctx.finish().as_ref().to_vec();
        }
        ctx.update(&buf[..n]);
    }
}

#[tokio::test]
async fn a_gibibyte_goes_up_and_down_in_bounded_memory() {
    let Some((server, id, secret)) = moto::start_with_auth("S3 1 GiB streaming test") else {
        return;
    };
    let s3 = moto::store(&server.url(), "large", &id, &secret);
    s3.create_bucket().await.unwrap();

    let mut rnd = [0u8; 8];
    aws_lc_rs::rand::fill(&mut rnd).unwrap();
    let dir = std::env::temp_dir().join(format!("sahih-s3-large-{}", hex::encode(rnd)));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("source.bin");
    {
        // Not one repeated block: every MiB differs, so a mixed-up part would show.
        let mut f = std::io::BufWriter::new(std::fs::File::create(&source).unwrap());
        let mut block = vec![0u8; 1 << 20];
        for i in 0..(SIZE >> 20) {
            for (j, b) in block.iter_mut().enumerate() {
                *b = ((j as u64).wrapping_mul(2_654_435_761) >> 13 ^ i) as u8;
            }
            f.write_all(&block).unwrap();
        }
        f.flush().unwrap();
    }
    let expected = sha256_of(&source);

    // Writing "5" to clear_refs resets the peak to the current RSS: setup does not count.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = peak_rss_kib();

    let started = std::time::Instant::now();
    assert_eq!(s3.put_file("big/gib.bin", &source).await.unwrap(), SIZE);
    let back = dir.join("back.bin");
    assert_eq!(
        s3.get_to_file("big/gib.bin", &back).await.unwrap(),
        Some(SIZE)
    );
    let peak = peak_rss_kib();
    // Reported for BENCHMARKS.md, never asserted.
    let elapsed = started.elapsed();

    assert_eq!(std::fs::metadata(&back).unwrap().len(), SIZE);
    assert!(
        sha256_of(&back) == expected,
        "the object came back different"
    );
    // The in-memory `get` refuses an object this size rather than holding it.
    assert!(s3.get("big/gib.bin").await.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    s3.delete("big/gib.bin").await.unwrap();

    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "1 GiB through S3 up and down: {:.1} s, peak RSS {} KiB (was {before} KiB before the transfer)",
            elapsed.as_secs_f64(),
            peak
        );
    }
    assert!(
        peak < PEAK_LIMIT_KIB,
        "peak RSS {peak} KiB during a 1 GiB transfer (limit {PEAK_LIMIT_KIB} KiB)"
    );
}
