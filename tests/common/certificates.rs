//! The exact-oracle check shared by the certificate tests: every bound a
//! certificate issues for a set of candidates lies strictly above σ.

use lipcert::certify::gram::GramWithError;
use lipcert::certify::pd_upper::{PdCertificate, PdFailure};
use lipcert::exact::ExactGram;
use lipcert::DenseMatrix;
use proptest::test_runner::TestCaseError;
use std::cmp::Ordering;

/// For each candidate s (with a label for the failure message) that
/// `certify` accepts, the certified bound is ≥ s and σ(w) < bound exactly
/// (the rational oracle). Candidates it refuses are skipped: refusing is
/// always sound.
pub fn issued_bounds_exceed_exact_sigma(
    w: &DenseMatrix,
    gram: &GramWithError,
    candidates: impl IntoIterator<Item = (f64, String)>,
    certify: impl Fn(&GramWithError, f64) -> Result<PdCertificate, PdFailure>,
) -> Result<(), TestCaseError> {
    let exact = ExactGram::new(w).unwrap();
    for (s, label) in candidates {
        if let Ok(cert) = certify(gram, s) {
            if cert.bound < s {
                return Err(TestCaseError::fail(format!(
                    "bound {} below the candidate {s} ({label})",
                    cert.bound
                )));
            }
            if exact.compare_sigma(cert.bound).unwrap() != Ordering::Less {
                return Err(TestCaseError::fail(format!(
                    "σ ≥ certified bound {} (candidate {label}) for {w:?}",
                    cert.bound
                )));
            }
        }
    }
    Ok(())
}
