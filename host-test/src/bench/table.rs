//! The benchmark's tables, as Markdown: medians side by side and ratios.

use super::{Contestant, DBMS_WORKLOADS, RAW_WORKLOADS, Report};

/// The table of medians and ratios, as Markdown.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = reports.iter().map(|r| r.contestant.name()).collect();
    let ns = |report: &Report, workload: &str| report.get(workload).map(|m| m.nanos);
    let find = |contestant: Contestant| reports.iter().find(|r| r.contestant == contestant);

    out.push_str(&format!(
        "| raw workload (ns/op, median) | {} |",
        names.join(" | ")
    ));
    out.push_str(" composed vs native | composed vs monolith |\n");
    out.push_str(&format!("|---|{}---|---|\n", "---:|".repeat(names.len())));
    for workload in RAW_WORKLOADS {
        out.push_str(&format!("| {workload} |"));
        for report in reports {
            out.push_str(&cell(ns(report, workload)));
        }
        out.push_str(&ratio(
            find(Contestant::Native),
            find(Contestant::Composed),
            workload,
        ));
        out.push_str(&ratio(
            find(Contestant::Monolith),
            find(Contestant::Composed),
            workload,
        ));
        out.push('\n');
    }
    out.push('\n');
    let dbms: Vec<&Report> = reports
        .iter()
        .filter(|r| r.get(DBMS_WORKLOADS[0]).is_some())
        .collect();
    let dbms_names: Vec<&str> = dbms.iter().map(|r| r.contestant.name()).collect();
    out.push_str(&format!(
        "| wasm-dbms workload (ns/op) | {} |",
        dbms_names.join(" | ")
    ));
    out.push_str(" composed speed-up over monolith | composed time / heap time |\n");
    out.push_str(&format!("|---|{}---|---|\n", "---:|".repeat(dbms.len())));
    let mut speedups = Vec::new();
    let mut over_heap = Vec::new();
    for workload in DBMS_WORKLOADS {
        out.push_str(&format!("| {workload} |"));
        for report in &dbms {
            out.push_str(&cell(ns(report, workload)));
        }
        let composed = find(Contestant::Composed).and_then(|r| ns(r, workload));
        let monolith = find(Contestant::Monolith).and_then(|r| ns(r, workload));
        let heap = find(Contestant::Heap).and_then(|r| ns(r, workload));
        match (monolith, composed) {
            (Some(m), Some(c)) => {
                speedups.push(m / c);
                out.push_str(&format!(" {:.2}x |", m / c));
            }
            _ => out.push_str(" - |"),
        }
        match (composed, heap) {
            (Some(c), Some(h)) => {
                over_heap.push(c / h);
                out.push_str(&format!(" {:.2}x |", c / h));
            }
            _ => out.push_str(" - |"),
        }
        out.push('\n');
    }
    if !speedups.is_empty() {
        out.push_str(&format!(
            "| geometric mean | {} {:.2}x | {:.2}x |\n",
            " |".repeat(dbms.len()),
            geomean(&speedups),
            geomean(&over_heap)
        ));
    }
    out.push_str("| syncs per insert |");
    for report in &dbms {
        match report.get(DBMS_WORKLOADS[0]).and_then(|m| m.syncs) {
            Some(syncs) => out.push_str(&format!(" {syncs:.3} |")),
            None => out.push_str(" - |"),
        }
    }
    out.push_str(" | |\n");
    out.push_str(&durable_cost(reports));
    out.push('\n');
    out.push_str(&format!("| | {} |\n", names.join(" | ")));
    out.push_str(&format!("|---|{}\n", "---:|".repeat(names.len())));
    out.push_str("| peak RSS (MiB) |");
    for report in reports {
        out.push_str(&format!(" {:.0} |", report.peak_rss_kib as f64 / 1024.0));
    }
    out.push('\n');
    out
}

fn cell(nanos: Option<f64>) -> String {
    match nanos {
        Some(nanos) => format!(" {:.0} |", nanos),
        None => " - |".into(),
    }
}

/// `base / other`: how many times faster `other` is than `base`, as text.
fn ratio(base: Option<&Report>, other: Option<&Report>, workload: &str) -> String {
    let base = base.and_then(|r| r.get(workload)).map(|m| m.nanos);
    let other = other.and_then(|r| r.get(workload)).map(|m| m.nanos);
    match (base, other) {
        (Some(b), Some(o)) => format!(" {:.0} % |", 100.0 * b / o),
        _ => " - |".into(),
    }
}

fn geomean(values: &[f64]) -> f64 {
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

/// The extra cost of a durable insert over a non-durable one, in measured `fdatasync`s.
fn durable_cost(reports: &[Report]) -> String {
    let nanos = |contestant: Contestant, workload: &str| {
        reports
            .iter()
            .find(|r| r.contestant == contestant)
            .and_then(|r| r.get(workload))
            .map(|m| m.nanos)
    };
    let durable = nanos(Contestant::ComposedDurable, DBMS_WORKLOADS[0]);
    let plain = nanos(Contestant::Composed, DBMS_WORKLOADS[0]);
    let sync = nanos(Contestant::Native, RAW_WORKLOADS[9]);
    match (durable, plain, sync) {
        (Some(durable), Some(plain), Some(sync)) => format!(
            "\nA durable insert costs {:.0} ns more than a non-durable one: {:.2} measured \
             `fdatasync`s of {:.0} ns.\n",
            durable - plain,
            (durable - plain) / sync,
            sync
        ),
        _ => String::new(),
    }
}

/// The recovery table: the time `open` takes to complete a journal left by a crash.
pub fn recovery_table(measures: &[super::RecoveryMeasure]) -> String {
    let mut out = String::from(
        "| journal left by a crash (MiB) | groups completed | open (ms) | MiB/s |\n|---:|---:|---:|---:|\n",
    );
    for measure in measures {
        let mib = measure.journal_bytes as f64 / (1 << 20) as f64;
        let seconds = measure.nanos / 1e9;
        out.push_str(&format!(
            "| {mib:.1} | {} | {:.1} | {:.0} |\n",
            measure.groups,
            measure.nanos / 1e6,
            mib / seconds
        ));
    }
    out
}
