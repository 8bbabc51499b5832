//! The benchmark at a small scale: every contestant runs every workload, and they agree on
//! what they read and how many rows the database workloads touched.

use host_test::bench::{self, Contestant, DBMS_WORKLOADS, RAW_WORKLOADS, Scale};

#[test]
fn every_contestant_runs_every_workload_and_they_agree() {
    let dir = tempfile::tempdir().unwrap();
    let reports = bench::run(dir.path(), Scale::quick(), &Contestant::ALL).unwrap();
    assert_eq!(reports.len(), Contestant::ALL.len());
    for report in &reports {
        for workload in RAW_WORKLOADS {
            let measure = report.get(workload);
            // The cost of one fdatasync is measured natively only.
            let runs = if workload == RAW_WORKLOADS[9] {
                report.contestant == Contestant::Native
            } else {
                report.contestant.runs_raw()
            };
            assert_eq!(measure.is_some(), runs, "{workload}");
            assert!(
                measure.is_none_or(|measure| measure.nanos > 0.0),
                "{workload}"
            );
        }
        for workload in DBMS_WORKLOADS {
            let ran = report.get(workload).is_some();
            assert_eq!(ran, report.contestant.runs_dbms(), "{workload}");
        }
    }
    assert_eq!(bench::checksum_mismatches(&reports), Vec::<String>::new());
    let updated = reports[1].get(DBMS_WORKLOADS[3]).unwrap().checksum.unwrap();
    assert!(updated > 0, "the update workload changed rows");
    // One sync per durable insert, none without.
    let syncs = |contestant| {
        reports
            .iter()
            .find(|r| r.contestant == contestant)
            .and_then(|r| r.get(DBMS_WORKLOADS[0]))
            .and_then(|m| m.syncs)
    };
    assert_eq!(syncs(Contestant::ComposedDurable), Some(1.0));
    assert_eq!(syncs(Contestant::Composed), Some(0.0));
    let table = bench::table(&reports);
    assert!(table.contains("geometric mean"), "{table}");
    assert!(table.contains("syncs per insert"), "{table}");
}

#[test]
fn recovery_completes_every_group_of_a_journal_left_by_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [64 << 10, 256 << 10];
    let measures =
        bench::measure_recovery(host_test::Runtime::shared(), dir.path(), &sizes).unwrap();
    for (measure, size) in measures.iter().zip(sizes) {
        assert!(measure.journal_bytes >= size, "{measure:?}");
        // Each group is one record of a 16 KiB range: 16 KiB and 72 bytes.
        assert_eq!(
            measure.groups,
            (measure.journal_bytes - 64) / (16384 + 72),
            "{measure:?}"
        );
    }
}
