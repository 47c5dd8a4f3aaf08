(** * Positive definiteness from a floating-point Cholesky factorization
      (Rump's criterion).

    S. M. Rump, "Verification of positive definiteness", BIT 46 (2006);
    improved constant: S. M. Rump, C.-P. Jeannerod, SIMAX 35 (2014).
    The idea: if the (floating-point) Cholesky factorization of
    A~ = A - diag(shift) runs to completion with factor L, then
    L L^T = A~ + Delta with a small backward error Delta; if every diagonal
    shift is at least c >= |Delta|, then A = L L^T - Delta + diag(shift)
    is positive definite.  The proofs below are ours.

    Part 1 (this section): the matrix-level argument, in real arithmetic,
    from an entrywise backward-error bound
      |(L L^T)_ij - A~_ij| <= beta |l_i| |l_j| + nu
    (l_i = row i of L) to positive definiteness of A. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Norms Certificate.
Open Scope R_scope.

Definition row (L : mat) (i : nat) : vec := L i.

Lemma sum_abs_sq_le : forall n (x : vec),
  sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i)) <= INR n * dot n x x.
Proof.
  intros n x.
  pose proof (cauchy_schwarz_sq n (fun _ => 1) (fun i => Rabs (x i))) as C. unfold dot in *.
  rewrite (sum_ext n (fun i => 1 * Rabs (x i)) (fun i => Rabs (x i))) in C by (intros; ring).
  rewrite (sum_ext n (fun i => Rabs (x i) * Rabs (x i)) (fun i => x i * x i)) in C
    by (intros; symmetry; apply Sq).
  replace (sum n (fun _ => 1 * 1)) with (INR n) in C; [exact C|].
  clear C. induction n as [|n IH]; [reflexivity|]. rewrite S_INR. simpl. rewrite <- IH. ring.
Qed.

(** x^T M x <= sum_ij |M_ij| |x_i| |x_j|, and the bound by a rank-one-plus-constant majorant. *)
Lemma quadform_abs_bound : forall n (M : mat) (x : vec) (w : vec) beta nu,
  0 <= beta -> 0 <= nu ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> Rabs (M i j) <= beta * w i * w j + nu) ->
  Rabs (quadform n M x)
    <= beta * (sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i)))
       + nu * (sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i))).
Proof.
  intros n M x w beta nu Hb Hn HM.
  unfold quadform, dot, matvec.
  eapply Rle_trans; [apply sum_abs|].
  eapply Rle_trans.
  { apply sum_le. intros i Hi. rewrite Rabs_mult.
    apply Rmult_le_compat_l; [apply Rabs_pos|].
    eapply Rle_trans; [apply sum_abs|].
    apply sum_le. intros j Hj. rewrite Rabs_mult.
    apply Rmult_le_compat_r; [apply Rabs_pos|apply HM; assumption]. }
  (* sum_i |x_i| sum_j (beta w_i w_j + nu) |x_j| = beta (sum w|x|)^2 + nu (sum |x|)^2 *)
  right.
  rewrite (sum_ext n _ (fun i => beta * (w i * Rabs (x i)) * sum n (fun j => w j * Rabs (x j))
                              + nu * Rabs (x i) * sum n (fun j => Rabs (x j)))).
  - rewrite sum_plus, !sum_scal_r, !sum_scal_l. ring.
  - intros i _.
    rewrite (sum_ext n _ (fun j => (beta * w i) * (w j * Rabs (x j)) + nu * Rabs (x j))) by (intros; ring).
    rewrite sum_plus, !sum_scal_l. ring.
Qed.

Definition trace (n : nat) (A : mat) : R := sum n (fun i => A i i).

(** [cholesky_backward_posdef]: the matrix-level half of Rump's criterion.
    L is lower triangular with positive diagonal (the factorization ran to
    completion); At (= A~) agrees with A off the diagonal and A_ii >= At_ii + c;
    the backward error of L L^T = At + Delta is bounded entrywise by
    beta |l_i| |l_j| + nu; and c is at least
    beta (tr A + n nu) / (1 - beta) + n nu.  Then A is positive definite. *)
Theorem cholesky_backward_posdef : forall n (A At L : mat) beta nu c,
  0 <= beta < 1 -> 0 <= nu -> 0 <= c ->
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  (forall i, (i < n)%nat -> 0 < L i i) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  (forall i j, (i < n)%nat -> (j < n)%nat ->
     Rabs (dot n (row L i) (row L j) - At i j) <= beta * norm n (row L i) * norm n (row L j) + nu) ->
  beta * (trace n A + INR n * nu) <= (1 - beta) * (c - INR n * nu) ->
  posdef n A.
Proof.
  intros n A At L beta nu c Hb Hnu Hc Hlow Hdiag Hoff Hshift HD Hconst x Hx.
  set (LLt := fun i j => dot n (row L i) (row L j)).
  set (Dl := msub LLt At).
  (* A = LLt - Dl + diag(A_ii - At_ii) on the index range *)
  assert (QA : quadform n A x
               = quadform n LLt x - quadform n Dl x + sum n (fun i => (A i i - At i i) * (x i * x i))).
  { unfold quadform, dot, matvec, Dl, msub.
    rewrite <- sum_minus, <- sum_plus. apply sum_ext. intros i Hi.
    rewrite <- Rmult_minus_distr_l, <- sum_minus.
    rewrite (sum_ext n (fun j => LLt i j * x j - (LLt i j - At i j) * x j) (fun j => At i j * x j)) by (intros; ring).
    rewrite (sum_ext n (fun j => A i j * x j)
                       (fun j => At i j * x j + (if Nat.eq_dec j i then (A i i - At i i) * x i else 0))).
    - rewrite sum_plus.
      rewrite (sum_single n (fun j => if Nat.eq_dec j i then (A i i - At i i) * x i else 0) i Hi).
      + destruct (Nat.eq_dec i i); [ring|congruence].
      + intros j _ Hj. destruct (Nat.eq_dec j i); [congruence|reflexivity].
    - intros j Hj. destruct (Nat.eq_dec j i) as [->|Hne]; [ring|].
      rewrite Hoff by (auto; lia). ring. }
  (* L L^T is positive definite (triangular factor with positive diagonal) *)
  assert (PL : 0 < quadform n LLt x).
  { apply (triangular_factor_posdef n LLt (transpose L) (fun _ => 1)); auto.
    - intros i j Hi Hj. unfold LLt, dot, row, transpose. apply sum_ext; intros; ring.
    - intros i l Hli Hi. unfold transpose. apply Hlow; lia.
    - intros i Hi. unfold transpose. pose proof (Hdiag i Hi). lra.
    - intros; lra. }
  (* the shift *)
  assert (Sh : c * dot n x x <= sum n (fun i => (A i i - At i i) * (x i * x i))).
  { unfold dot. rewrite <- sum_scal_l. apply sum_le. intros i Hi.
    apply Rmult_le_compat_r; [apply Rle_0_sqr|]. pose proof (Hshift i Hi). lra. }
  (* the backward error *)
  set (w := fun i => norm n (row L i)).
  assert (Wn : forall i, 0 <= w i) by (intro; apply norm_nonneg).
  pose proof (quadform_abs_bound n Dl x w beta nu (proj1 Hb) Hnu) as QD.
  assert (QD' : Rabs (quadform n Dl x)
      <= beta * (sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i)))
         + nu * (sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i)))).
  { apply QD. intros i j Hi Hj. unfold Dl, msub, LLt, w. apply HD; assumption. }
  clear QD.
  (* sum_i w_i |x_i| squared <= (sum w_i^2) |x|^2 *)
  assert (CS1 : sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i))
                <= sum n (fun i => w i * w i) * dot n x x).
  { pose proof (cauchy_schwarz_sq n w (fun i => Rabs (x i))) as C. unfold dot in *.
    rewrite (sum_ext n (fun i => Rabs (x i) * Rabs (x i)) (fun i => x i * x i)) in C
      by (intros; symmetry; apply Sq).
    exact C. }
  pose proof (sum_abs_sq_le n x) as CS2.
  (* sum_i |l_i|^2 <= (tr A + n nu) / (1 - beta) *)
  assert (TR : (1 - beta) * sum n (fun i => w i * w i) <= trace n A + INR n * nu).
  { assert (E : forall i, (i < n)%nat -> w i * w i <= A i i + beta * (w i * w i) + nu).
    { intros i Hi. specialize (HD i i Hi Hi). unfold w.
      pose proof (norm_sq n (row L i)) as E2.
      pose proof (Rle_abs (dot n (row L i) (row L i) - At i i)).
      pose proof (Hshift i Hi). lra. }
    assert (S : sum n (fun i => w i * w i) <= trace n A + beta * sum n (fun i => w i * w i) + INR n * nu).
    { unfold trace. eapply Rle_trans; [apply sum_le; exact E|].
      rewrite !sum_plus, sum_scal_l.
      replace (sum n (fun _ => nu)) with (INR n * nu); [lra|].
      clear. induction n as [|n IH]; [simpl; ring|]. rewrite S_INR. simpl. rewrite <- IH. ring. }
    lra. }
  pose proof (dot_self_nonneg n x) as Xn.
  assert (SW : 0 <= sum n (fun i => w i * w i)) by (apply sum_nonneg; intros; apply Rmult_le_pos; apply Wn).
  (* combine: quadform Dl <= beta S |x|^2 + n nu |x|^2 <= c |x|^2 *)
  assert (B1 : beta * (sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i)))
               <= beta * (sum n (fun i => w i * w i) * dot n x x))
    by (apply Rmult_le_compat_l; [lra|exact CS1]).
  assert (B2 : nu * (sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i))) <= nu * (INR n * dot n x x))
    by (apply Rmult_le_compat_l; [lra|exact CS2]).
  assert (B3 : beta * sum n (fun i => w i * w i) + INR n * nu <= c).
  { (* (1-beta) * beta * S <= beta * (tr + n nu) <= (1-beta)(c - n nu) *)
    assert (H1 : (1 - beta) * (beta * sum n (fun i => w i * w i)) <= (1 - beta) * (c - INR n * nu)).
    { replace ((1 - beta) * (beta * sum n (fun i => w i * w i)))
        with (beta * ((1 - beta) * sum n (fun i => w i * w i))) by ring.
      eapply Rle_trans; [|exact Hconst]. apply Rmult_le_compat_l; [lra|exact TR]. }
    apply Rmult_le_reg_l in H1; lra. }
  assert (B4 : (beta * sum n (fun i => w i * w i) + INR n * nu) * dot n x x <= c * dot n x x)
    by (apply Rmult_le_compat_r; assumption).
  pose proof (Rle_abs (quadform n Dl x)).
  rewrite QA. nra.
Qed.
