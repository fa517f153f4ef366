//! The standard Prometheus process series, read from `/proc/self` at each scrape:
//! `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
//! `process_open_fds`, `process_max_fds` and `process_start_time_seconds`, with the names and
//! meanings of the Go and Python clients, so stock dashboards and alerts work.
//!
//! Owns: parsing `/proc/self/{stat,status,limits,fd}` and `/proc/stat`. Must not know: HTTP or
//! anything the server does. A series that cannot be read (not Linux, a hardened `/proc`) is left
//! out of the scrape rather than shown as zero.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second in `/proc/*/stat`: Linux reports them in USER_HZ, which the kernel's
/// ABI fixes at 100 on every architecture Sahih ships for (x86_64, aarch64).
const USER_HZ: f64 = 100.0;

/// The process series at each scrape (registered once per registry).
#[derive(Debug, Default)]
pub(crate) struct ProcessCollector;

/// One reading of `/proc/self`; `None` for what could not be read.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ProcessStats {
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) resident_bytes: Option<i64>,
    pub(crate) virtual_bytes: Option<i64>,
    pub(crate) open_fds: Option<i64>,
    pub(crate) max_fds: Option<i64>,
    pub(crate) start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// Reads this process's numbers now.
    pub(crate) fn read() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let stat = read("/proc/self/stat");
        let status = read("/proc/self/status");
        let (cpu_seconds, start_ticks) = stat.as_deref().map(parse_stat).unwrap_or_default();
        let boot = read("/proc/stat").as_deref().and_then(parse_boot_time);
        Self {
            cpu_seconds,
            resident_bytes: status.as_deref().and_then(|s| status_kib(s, "VmRSS:")),
            virtual_bytes: status.as_deref().and_then(|s| status_kib(s, "VmSize:")),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .and_then(|d| i64::try_from(d.count()).ok()),
            max_fds: read("/proc/self/limits")
                .as_deref()
                .and_then(parse_max_open_files),
            start_time_seconds: boot
                .zip(start_ticks)
                .map(|(boot, ticks)| boot + ticks / USER_HZ),
        }
    }
}

/// User plus system CPU seconds, and the start time in ticks after boot, from `/proc/self/stat`
/// (fields 14, 15 and 22; the command name in field 2 may hold spaces and parentheses, so the
/// count starts after its last `)`).
fn parse_stat(stat: &str) -> (Option<f64>, Option<f64>) {
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return (None, None);
    };
    // rest's first field is field 3 (state).
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let cpu = field(14).zip(field(15)).map(|(u, s)| (u + s) / USER_HZ);
    (cpu, field(22))
}

/// A `Name:  1234 kB` line of `/proc/self/status`, in bytes.
fn status_kib(status: &str, name: &str) -> Option<i64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kib: i64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The soft limit of open files (`Max open files  1024  524288  files`).
fn parse_max_open_files(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The boot time in seconds since the epoch (`btime` in `/proc/stat`).
fn parse_boot_time(stat: &str) -> Option<f64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = ProcessStats::read();
        if let Some(v) = s.cpu_seconds {
            let m = ConstCounter::new(v);
            // The encoder adds `_total` to a counter's name.
            m.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                m.metric_type(),
            )?)?;
        }
        let gauges: [(&str, &str, Option<i64>); 4] = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                s.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                s.virtual_bytes,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                s.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                s.max_fds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let m = ConstGauge::new(v);
                m.encode(encoder.encode_descriptor(name, help, None, m.metric_type())?)?;
            }
        }
        if let Some(v) = s.start_time_seconds {
            let m = ConstGauge::new(v);
            m.encode(encoder.encode_descriptor(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                None,
                m.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis, as a process may set it.
        let stat = "4242 (sa) hih) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 \
                    123456 1000000 500 18446744073709551615";
        let (cpu, start) = parse_stat(stat);
        assert_eq!(cpu, Some(3.0));
        assert_eq!(start, Some(123456.0));
        assert_eq!(parse_stat("garbage"), (None, None));
    }

    #[test]
    fn status_limits_and_boot_time() {
        let status = "Name:\tsahih\nVmSize:\t  204800 kB\nVmRSS:\t   51200 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(51200 * 1024));
        assert_eq!(status_kib(status, "VmSize:"), Some(204800 * 1024));
        assert_eq!(status_kib(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1700000000\n"),
            Some(1.7e9)
        );
    }

    #[test]
    fn this_process_can_be_read_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let s = ProcessStats::read();
        assert!(s.resident_bytes.is_some_and(|b| b > 0), "{s:?}");
        assert!(s.open_fds.is_some_and(|n| n > 0), "{s:?}");
        assert!(s.cpu_seconds.is_some(), "{s:?}");
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
        assert!(
            s.start_time_seconds
                .is_some_and(|t| t <= now + 1.0 && t > now - 86_400.0 * 365.0),
            "{s:?}"
        );
    }
}
