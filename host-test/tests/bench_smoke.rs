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
            assert_eq!(
                measure.is_some(),
                report.contestant.runs_raw(),
                "{workload}"
            );
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
    let table = bench::table(&reports);
    assert!(table.contains("geometric mean"), "{table}");
}
