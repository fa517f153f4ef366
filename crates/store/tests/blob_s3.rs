//! The S3 blob store against a real S3-compatible server: `moto_server` with authentication on
//! (see `moto/mod.rs`), so every signature we send is checked.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use sahih_core::store::{BlobError, BlobStore};
use sahih_store::blob::AnyBlobStore;

mod moto;
use moto::store;

#[tokio::test]
async fn s3_blob_store_against_moto() {
    let Some((server, id, secret)) = moto::start_with_auth("S3 blob tests") else {
        return;
    };
    let url = server.url();

    let s3 = store(&url, "", &id, &secret);
    assert!(!s3.describe().contains(&secret));

    // Before the bucket exists: a clear error, not "missing object".
    match s3.get("a.txt").await {
        Err(BlobError::Backend(m)) => assert!(m.contains("NoSuchBucket"), "{m}"),
        other => panic!("expected NoSuchBucket, got {other:?}"),
    }
    s3.create_bucket().await.unwrap();
    s3.create_bucket().await.unwrap(); // idempotent for our own bucket

    // put / get / overwrite / delete / get missing / delete missing
    s3.put("signed/a.pdf", b"first".to_vec()).await.unwrap();
    assert_eq!(
        s3.get("signed/a.pdf").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    s3.put("signed/a.pdf", b"second version".to_vec())
        .await
        .unwrap();
    assert_eq!(
        s3.get("signed/a.pdf").await.unwrap().as_deref(),
        Some(&b"second version"[..])
    );
    s3.delete("signed/a.pdf").await.unwrap();
    assert_eq!(s3.get("signed/a.pdf").await.unwrap(), None);
    s3.delete("signed/a.pdf").await.unwrap();
    s3.put("empty", Vec::new()).await.unwrap();
    assert_eq!(s3.get("empty").await.unwrap().as_deref(), Some(&[][..]));

    // 5 MB, not all the same byte.
    let big: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    s3.put("big/object.bin", big.clone()).await.unwrap();
    assert!(s3.get("big/object.bin").await.unwrap() == Some(big));

    // A prefixed store writes under the prefix, seen from the unprefixed one.
    let tenant = store(&url, "tenant-a/docs", &id, &secret);
    tenant.put("x/1.pdf", b"tenant".to_vec()).await.unwrap();
    assert_eq!(
        s3.get("tenant-a/docs/x/1.pdf").await.unwrap().as_deref(),
        Some(&b"tenant"[..])
    );
    assert_eq!(tenant.get("tenant-a/docs/x/1.pdf").await.unwrap(), None);
    assert!(tenant.describe().contains("s3://sahih-docs/tenant-a/docs/"));

    // Through the enum, as the server uses it.
    let any = AnyBlobStore::S3(tenant.clone());
    assert_eq!(
        any.get("x/1.pdf").await.unwrap().as_deref(),
        Some(&b"tenant"[..])
    );
    any.delete("x/1.pdf").await.unwrap();
    assert_eq!(tenant.get("x/1.pdf").await.unwrap(), None);

    // Invalid keys never reach the network.
    assert!(matches!(
        s3.put("../x", vec![]).await,
        Err(BlobError::InvalidKey(_))
    ));

    // A wrong secret: moto verifies signatures because authentication is on.
    let wrong_secret = "wrong-secret-0123456789";
    let wrong = store(&url, "", &id, wrong_secret);
    for result in [
        wrong.put("w.txt", b"no".to_vec()).await,
        wrong.get("empty").await.map(|_| ()),
        wrong.delete("empty").await,
    ] {
        match result {
            Err(BlobError::Backend(m)) => {
                assert!(
                    m.contains("403") && m.contains("SignatureDoesNotMatch"),
                    "{m}"
                );
                assert!(
                    !m.contains(wrong_secret) && !m.contains("Signature="),
                    "{m}"
                );
            }
            other => panic!("expected a signature error, got {other:?}"),
        }
    }
    // An unknown access key.
    let unknown = store(&url, "", "AKIAUNKNOWNKEY000000", &secret);
    match unknown.get("empty").await {
        Err(BlobError::Backend(m)) => assert!(m.contains("403"), "{m}"),
        other => panic!("expected 403, got {other:?}"),
    }
    // The right key still works after those.
    assert_eq!(s3.get("empty").await.unwrap().as_deref(), Some(&[][..]));

    // Nothing listening: a transport error, quickly.
    drop(server);
    assert!(matches!(s3.get("empty").await, Err(BlobError::Backend(_))));
}
