//! Where CPU-bound work runs (signing, Argon2, validation): a leaf every module may use.
//!
//! Must not know: what the work is.

/// Runs CPU-bound or blocking work without stalling other tasks: on a multi-threaded runtime
/// the worker hands its tasks to others meanwhile; elsewhere (the one-shot CLI) it runs inline.
pub(crate) fn run_cpu<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
