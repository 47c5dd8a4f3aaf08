(** * Positive definiteness from a floating-point Cholesky factorization
      (Rump's criterion).

    S. M. Rump, "Verification of positive definiteness", BIT 46 (2006);
    improved constant: S. M. Rump, C.-P. Jeannerod, SIMAX 35 (2014).
    The idea: if the (floating-point) Cholesky factorization of
    A~ = A - diag(shift) runs to completion with factor L, then
    L L^T = A~ + Delta with a small backward error Delta; if every diagonal
    shift is at least c >= |Delta|, then A = L L^T - Delta + diag(shift)
    is positive definite.  The proofs below are ours.

    Parts 2 and 3 (the floating-point factorization and the criteria) are
    proved for every binary format (the functor [Criterion]; the top-level
    names are its binary64 instance); Part 4 is lipcert's binary64
    constant, Part 5 the binary32 instance of the a-posteriori criterion.

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

(** x^T M x <= sum_ij N_ij |x_i| |x_j| for any entrywise majorant N of |M|. *)
Lemma quadform_abs_le : forall n (M N : mat) (x : vec),
  (forall i j, (i < n)%nat -> (j < n)%nat -> Rabs (M i j) <= N i j) ->
  Rabs (quadform n M x) <= sum n (fun i => Rabs (x i) * sum n (fun j => N i j * Rabs (x j))).
Proof.
  intros n M N x HM.
  unfold quadform, dot, matvec.
  eapply Rle_trans; [apply sum_abs|].
  apply sum_le. intros i Hi. rewrite Rabs_mult.
  apply Rmult_le_compat_l; [apply Rabs_pos|].
  eapply Rle_trans; [apply sum_abs|].
  apply sum_le. intros j Hj. rewrite Rabs_mult.
  apply Rmult_le_compat_r; [apply Rabs_pos|apply HM; assumption].
Qed.

(** The bound by a rank-one-plus-constant majorant. *)
Lemma quadform_abs_bound : forall n (M : mat) (x : vec) (w : vec) beta nu,
  0 <= beta -> 0 <= nu ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> Rabs (M i j) <= beta * w i * w j + nu) ->
  Rabs (quadform n M x)
    <= beta * (sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i)))
       + nu * (sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i))).
Proof.
  intros n M x w beta nu Hb Hn HM.
  eapply Rle_trans; [apply (quadform_abs_le n M (fun i j => beta * w i * w j + nu)); exact HM|].
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

(** [backward_split]: what both criteria below share. L is lower triangular
    with positive diagonal (the factorization ran to completion), At (= A~)
    agrees with A off the diagonal and A_ii >= At_ii + c.  Then for x <> 0,
      c |x|^2 - x^T Delta x < x^T A x,   Delta = L L^T - At,
    because x^T A x = x^T L L^T x - x^T Delta x + sum_i (A_ii - At_ii) x_i^2
    and x^T L L^T x > 0.  So A is positive definite as soon as
    x^T Delta x <= c |x|^2 for every x. *)
Lemma backward_split : forall n (A At L : mat) c x,
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  (forall i, (i < n)%nat -> 0 < L i i) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  (exists i, (i < n)%nat /\ x i <> 0) ->
  c * dot n x x - quadform n (fun i j => dot n (row L i) (row L j) - At i j) x < quadform n A x.
Proof.
  intros n A At L c x Hlow Hdiag Hoff Hshift Hx.
  set (LLt := fun i j => dot n (row L i) (row L j)).
  set (Dl := msub LLt At).
  change (fun i j => dot n (row L i) (row L j) - At i j) with Dl.
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
  rewrite QA. lra.
Qed.

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
  pose proof (backward_split n A At L c x Hlow Hdiag Hoff Hshift Hx) as Split.
  set (Dl := fun i j => dot n (row L i) (row L j) - At i j) in Split.
  (* the backward error *)
  set (w := fun i => norm n (row L i)).
  assert (Wn : forall i, 0 <= w i) by (intro; apply norm_nonneg).
  pose proof (quadform_abs_bound n Dl x w beta nu (proj1 Hb) Hnu) as QD.
  assert (QD' : Rabs (quadform n Dl x)
      <= beta * (sum n (fun i => w i * Rabs (x i)) * sum n (fun i => w i * Rabs (x i)))
         + nu * (sum n (fun i => Rabs (x i)) * sum n (fun i => Rabs (x i)))).
  { apply QD. intros i j Hi Hj. unfold Dl, w. apply HD; assumption. }
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
  nra.
Qed.

(** [cholesky_backward_posdef_measured]: the a-posteriori form.  With the
    componentwise backward error
      |(L L^T)_ij - At_ij| <= beta sum_k |l_ik| |l_jk| + nu
    (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., Thm
    10.3, up to our constants), x^T Delta x <= beta |(|L|^T |x|)|^2 + nu (sum|x_i|)^2
    <= (beta r + n nu) |x|^2 once the spectral norm of |L| is known to be
    at most sqrt r (measured after the factorization, e.g. by the weighted
    Schur test [Norms.spectral_le_weighted_schur]).  So a shift
    c >= beta r + n nu suffices: r = || |L| ||_2^2 is in practice far below
    the trace that the a-priori constant has to assume. *)
Theorem cholesky_backward_posdef_measured : forall n (A At L : mat) beta nu c r,
  0 <= beta -> 0 <= nu -> 0 <= r ->
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  (forall i, (i < n)%nat -> 0 < L i i) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  (forall i j, (i < n)%nat -> (j < n)%nat ->
     Rabs (dot n (row L i) (row L j) - At i j) <= beta * sum n (fun k => Rabs (L i k * L j k)) + nu) ->
  bounded n n (fun k i => Rabs (L i k)) (sqrt r) ->
  beta * r + INR n * nu <= c ->
  posdef n A.
Proof.
  intros n A At L beta nu c r Hb Hnu Hr Hlow Hdiag Hoff Hshift HD HK Hc x Hx.
  pose proof (backward_split n A At L c x Hlow Hdiag Hoff Hshift Hx) as Split.
  set (Dl := fun i j => dot n (row L i) (row L j) - At i j) in Split.
  set (ax := fun i => Rabs (x i)).
  set (K := fun k i => Rabs (L i k)).
  (* |x^T Dl x| <= beta |K |x||^2 + nu (sum |x|)^2 *)
  assert (QD : Rabs (quadform n Dl x)
      <= beta * dot n (matvec n K ax) (matvec n K ax) + nu * (sum n ax * sum n ax)).
  { eapply Rle_trans.
    { apply (quadform_abs_le n Dl (fun i j => beta * sum n (fun k => K k i * K k j) + nu)).
      intros i j Hi Hj. unfold Dl, K.
      rewrite (sum_ext n (fun k => Rabs (L i k) * Rabs (L j k)) (fun k => Rabs (L i k * L j k)))
        by (intros; symmetry; apply Rabs_mult).
      apply HD; assumption. }
    right. unfold dot, matvec. fold ax.
    set (T := fun k => sum n (fun j => K k j * ax j)).
    (* inner sums: sum_j (beta sum_k K_ki K_kj + nu) |x_j| = beta sum_k K_ki T_k + nu sum |x| *)
    assert (In : forall i, sum n (fun j => (beta * sum n (fun k => K k i * K k j) + nu) * Rabs (x j))
                           = beta * sum n (fun k => K k i * T k) + nu * sum n ax).
    { intro i.
      rewrite (sum_ext n _ (fun j => beta * sum n (fun k => K k i * (K k j * ax j)) + nu * ax j)).
      - rewrite sum_plus, sum_scal_l, sum_scal_l, sum_swap. f_equal. f_equal.
        apply sum_ext. intros k _. unfold T. rewrite <- sum_scal_l. reflexivity.
      - intros j _. unfold ax. rewrite Rmult_plus_distr_r, Rmult_assoc, <- sum_scal_r.
        f_equal. f_equal. apply sum_ext. intros; ring. }
    rewrite (sum_ext n _ (fun i => beta * sum n (fun k => K k i * ax i * T k) + nu * ax i * sum n ax)).
    + rewrite sum_plus, sum_scal_l, sum_swap.
      assert (E2 : sum n (fun i => nu * ax i * sum n ax) = nu * (sum n ax * sum n ax)).
      { rewrite sum_scal_r, sum_scal_l. ring. }
      rewrite E2. f_equal. f_equal. apply sum_ext. intros k _.
      rewrite sum_scal_r. reflexivity.
    + intros i _. rewrite In. fold (ax i).
      rewrite Rmult_plus_distr_l. f_equal; [|ring].
      rewrite <- !sum_scal_l. apply sum_ext; intros; ring. }
  (* |K |x||^2 <= r |x|^2 and (sum |x|)^2 <= n |x|^2 *)
  assert (Kx : dot n (matvec n K ax) (matvec n K ax) <= r * dot n x x).
  { pose proof (sq_of_norm_le n n (matvec n K ax) ax (sqrt r) (sqrt_pos r) (HK ax)) as E.
    rewrite sqrt_sqrt in E by exact Hr.
    replace (dot n ax ax) with (dot n x x) in E; [exact E|].
    unfold dot, ax. symmetry. apply sum_sq_abs. }
  pose proof (sum_abs_sq_le n x) as CS2. fold ax in CS2.
  assert (B1 : beta * dot n (matvec n K ax) (matvec n K ax) <= beta * (r * dot n x x))
    by (apply Rmult_le_compat_l; assumption).
  assert (B2 : nu * (sum n ax * sum n ax) <= nu * (INR n * dot n x x))
    by (apply Rmult_le_compat_l; assumption).
  pose proof (dot_self_nonneg n x) as Xn.
  assert (B3 : (beta * r + INR n * nu) * dot n x x <= c * dot n x x)
    by (apply Rmult_le_compat_r; assumption).
  pose proof (Rle_abs (quadform n Dl x)).
  nra.
Qed.

(** ** Part 2: the floating-point Cholesky factorization.

    Parts 2 and 3 are proved once for every binary format: they form the
    functor [Criterion (F : FloatRounding.FORMAT)] below.  Its binary64
    instance is included at the top level of this file
    ([Include Criterion FloatRounding.Binary64], after Part 3), so that
    [computed_cholesky], [cholesky_entry_bounds], [rump_cholesky_posdef],
    [rump_measured_posdef], [u], [eta], [gamma], ... name the binary64
    versions, as before the generalisation; its binary32 instance is the
    module [Binary32Criterion] (Part 5).

    Model (the format F, round to nearest with any tie rule, [FloatRounding]):
    the computed lower-triangular factor L of At satisfies, for every j < n,
      d_j  = fl(At_jj - sum_(k<j) L_jk L_jk)   (any summation order),
      d_j  > 0,  L_jj = RN(sqrt d_j),
    and for j < i < n
      L_ij = RN( fl(At_ij - sum_(k<j) L_ik L_jk) / L_jj )   (any order).
    "Any summation order" is a [FloatDot.tree] whose leaves are the anchor
    (At_ij, 1) and the products (-L_ik, L_jk), k < j, in any permutation.
    (s - a*b rounded equals s + (-a)*b rounded when rounding is symmetric,
    as round-to-nearest-even is.) *)
From Coq Require Import List Permutation.
From Flocq Require Import Core Relative.
(* Required, not imported: the functor below includes its own copy of
   [FloatDot.Dot] (hence of [FloatRounding.Rounding]); importing the
   top-level binary64 names of those files as well would make [u], [eta],
   [gamma], ... ambiguous. *)
From Lipcert Require FloatRounding FloatDot.

Module Criterion (F : FloatRounding.FORMAT).
Include FloatDot.Dot F.

Definition cleaves (a : R) (f g : nat -> R) (j : nat) : list (R * R) :=
  (a, 1) :: map (fun k => (- f k, g k)) (seq 0 j).

Lemma sum_prod_cleaves : forall a f g j,
  sum_prod (cleaves a f g j) = a - sum j (fun k => f k * g k).
Proof.
  intros a f g j. unfold cleaves. cbn [sum_prod fold_right fst snd]. fold (sum_prod (map (fun k => (- f k, g k)) (seq 0 j))).
  induction j as [|j IH]; [simpl; unfold sum_prod; simpl; ring|].
  rewrite seq_S, map_app, sum_prod_app. simpl sum.
  unfold sum_prod at 2. simpl. lra.
Qed.

Lemma sum_abs_prod_cleaves : forall a f g j,
  sum_abs_prod (cleaves a f g j) = Rabs a + sum j (fun k => Rabs (f k * g k)).
Proof.
  intros a f g j. unfold cleaves. cbn [sum_abs_prod fold_right fst snd].
  fold (sum_abs_prod (map (fun k => (- f k, g k)) (seq 0 j))). rewrite Rmult_1_r.
  induction j as [|j IH]; [simpl; unfold sum_abs_prod; simpl; ring|].
  rewrite seq_S, map_app, sum_abs_prod_app. simpl sum.
  unfold sum_abs_prod at 2. simpl.
  replace (- f j * g j) with (- (f j * g j)) by ring. rewrite Rabs_Ropp. lra.
Qed.

Lemma length_cleaves : forall a f g j, length (cleaves a f g j) = S j.
Proof. intros. unfold cleaves. simpl. rewrite map_length, seq_length. reflexivity. Qed.

Section FloatCholesky.
Variable choice : Z -> bool.

Lemma anchored_sum_error : forall t a f g j,
  Permutation (leaves t) (cleaves a f g j) -> 2 * INR (S j) * u <= 1 ->
  Rabs (fl choice t - (a - sum j (fun k => f k * g k)))
    <= gamma (S j) * (Rabs a + sum j (fun k => Rabs (f k * g k))) + INR (S j) * eta.
Proof.
  intros t a f g j HP Hn.
  rewrite <- sum_prod_cleaves, <- sum_abs_prod_cleaves.
  rewrite <- (length_cleaves a f g j) in *.
  apply dot_error_bound_perm; assumption.
Qed.

Lemma format_pos_ge_eta : forall d, format d -> 0 < d -> eta <= d.
Proof.
  intros d Fd Hd. unfold eta.
  apply (generic_format_ge_bpow radix2 fexp); [|exact Hd|exact Fd].
  intro e. unfold fexp, FLT_exp. lia.
Qed.

Lemma sqrt_error : forall d, format d -> 0 < d ->
  Rabs (RN choice (sqrt d) - sqrt d) <= u * sqrt d.
Proof.
  intros d Fd Hd.
  pose proof (format_pos_ge_eta d Fd Hd) as He.
  assert (Hs : bpow radix2 (emin + prec - 1) <= Rabs (sqrt d)).
  { rewrite Rabs_right by (apply Rle_ge, sqrt_pos).
    (* sqrt d >= sqrt eta >= 2^(emin/2) >= 2^(emin+prec-1) (binary64: 2^-537;
       binary32: 2^-75; emin/2 rounds down, so 2 (emin/2) <= emin) *)
    apply Rle_trans with (bpow radix2 (emin / 2)).
    - apply bpow_le. exact sqrt_normal.
    - rewrite <- (sqrt_bpow radix2 (emin / 2)). apply sqrt_le_1_alt.
      eapply Rle_trans; [|exact He]. unfold eta. apply bpow_le.
      pose proof (Z.mul_div_le emin 2). lia. }
  pose proof (relative_error_N_FLT radix2 emin prec prec_gt_0 choice (sqrt d) Hs) as R.
  rewrite (Rabs_right (sqrt d)) in R by (apply Rle_ge, sqrt_pos).
  change (/ 2 * bpow radix2 (- prec + 1)) with (u_ro radix2 prec) in R.
  rewrite u_ro_eq in R. exact R.
Qed.

Lemma sqrt_step : forall d, format d -> 0 < d ->
  let r := RN choice (sqrt d) in
  (1 - u) * (1 - u) * Rabs (r * r - d) <= (2 * u + u * u) * (r * r)
  /\ r <= (1 + u) * sqrt d /\ 0 < r.
Proof.
  intros d Fd Hd r.
  pose proof (sqrt_error d Fd Hd) as E. fold r in E.
  pose proof u_pos as Hu. pose proof u_small as Hu4.
  set (s := sqrt d) in *.
  assert (Spos : 0 < s) by (apply sqrt_lt_R0; exact Hd).
  assert (Sq : s * s = d) by (apply sqrt_sqrt; lra).
  set (e := r - s) in *.
  assert (Hr : r = s + e) by (unfold e; ring).
  assert (Le : (1 - u) * s <= r).
  { pose proof (Rabs_le_inv _ _ E) as [E1 E2]. lra. }
  assert (R0 : 0 < r) by nra.
  split; [|split; [pose proof (Rabs_le_inv _ _ E); lra|exact R0]].
  assert (D : r * r - d = 2 * s * e + e * e) by (rewrite <- Sq, Hr; ring).
  rewrite D.
  assert (A1 : Rabs (2 * s * e + e * e) <= (2 * u + u * u) * (s * s)).
  { eapply Rle_trans; [apply Rabs_triang|].
    rewrite !Rabs_mult, (Rabs_right 2), (Rabs_right s) by lra.
    assert (Rabs e * Rabs e <= (u * s) * (u * s)) by (apply Rmult_le_compat; try apply Rabs_pos; exact E).
    assert (2 * s * Rabs e <= 2 * s * (u * s)) by (apply Rmult_le_compat_l; [lra|exact E]).
    nra. }
  assert (A2 : (1 - u) * (1 - u) * (s * s) <= r * r).
  { replace ((1 - u) * (1 - u) * (s * s)) with (((1 - u) * s) * ((1 - u) * s)) by ring.
    apply Rmult_le_compat; nra. }
  assert (P2 : 0 <= 2 * u + u * u) by nra.
  assert (P1 : 0 <= (1 - u) * (1 - u)) by nra.
  eapply Rle_trans; [apply Rmult_le_compat_l; [exact P1|exact A1]|].
  replace ((1 - u) * (1 - u) * ((2 * u + u * u) * (s * s)))
    with ((2 * u + u * u) * ((1 - u) * (1 - u) * (s * s))) by ring.
  apply Rmult_le_compat_l; assumption.
Qed.

(** Division step: l = RN(s / r), r > 0  ==>  (1-u) |l r - s| <= u |l r| + r eta / 2. *)
Lemma div_step : forall s r, 0 < r ->
  let l := RN choice (s / r) in
  (1 - u) * Rabs (l * r - s) <= u * Rabs (l * r) + r * (/ 2 * eta).
Proof.
  intros s r Hr l.
  pose proof (rn_error_bound choice (s / r)) as E. fold l in E.
  assert (E1 : Rabs (l * r - s) <= u * Rabs s + r * (/ 2 * eta)).
  { replace (l * r - s) with ((l - s / r) * r) by (field; lra).
    rewrite Rabs_mult, (Rabs_right r) by lra.
    replace (u * Rabs s) with (u * Rabs (s / r) * r).
    - replace (u * Rabs (s / r) * r + r * (/ 2 * eta)) with ((u * Rabs (s / r) + / 2 * eta) * r) by ring.
      apply Rmult_le_compat_r; lra.
    - unfold Rdiv. rewrite Rabs_mult, Rabs_inv, (Rabs_right r) by lra. field. lra. }
  assert (E2 : Rabs s <= Rabs (l * r) + Rabs (l * r - s)).
  { replace s with (l * r - (l * r - s)) at 1 by ring.
    eapply Rle_trans; [apply Rabs_triang|]. rewrite Rabs_Ropp. lra. }
  pose proof u_pos. assert (u * Rabs s <= u * (Rabs (l * r) + Rabs (l * r - s))) by (apply Rmult_le_compat_l; lra).
  lra.
Qed.

(** Backward error of one off-diagonal entry (pure real arithmetic). *)
Lemma offdiag_entry : forall a P Pa s r l g m,
  0 <= g < 1 -> 0 <= m -> 0 < r -> Rabs P <= Pa ->
  Rabs (s - (a - P)) <= g * (Rabs a + Pa) + m ->
  (1 - u) * Rabs (l * r - s) <= u * Rabs (l * r) + r * (/ 2 * eta) ->
  (1 - u) * (1 - g) * Rabs (P + l * r - a)
    <= (u + 2 * g * (1 - u)) * (Pa + Rabs (l * r)) + r * (/ 2 * eta) + (1 - u) * m.
Proof.
  intros a P Pa s r l g m Hg Hm Hr HP E2 E1.
  pose proof u_pos as Hu. pose proof u_small as Hu4.
  set (D := P + l * r - a).
  assert (HD : Rabs D <= Rabs (l * r - s) + Rabs (s - (a - P))).
  { replace D with ((l * r - s) + (s - (a - P))) by (unfold D; ring). apply Rabs_triang. }
  assert (Ha : Rabs a <= Pa + Rabs (l * r) + Rabs D).
  { replace a with (P + l * r - D) by (unfold D; ring).
    eapply Rle_trans; [apply Rabs_triang|]. rewrite Rabs_Ropp.
    pose proof (Rabs_triang P (l * r)). lra. }
  assert (G1 : g * Rabs a <= g * (Pa + Rabs (l * r) + Rabs D)) by (apply Rmult_le_compat_l; lra).
  assert (K : (1 - g) * Rabs D <= Rabs (l * r - s) + 2 * g * (Pa + Rabs (l * r)) + m).
  { assert (0 <= g * Rabs (l * r)) by (apply Rmult_le_pos; [lra|apply Rabs_pos]). lra. }
  assert (K' : (1 - u) * ((1 - g) * Rabs D) <= (1 - u) * (Rabs (l * r - s) + 2 * g * (Pa + Rabs (l * r)) + m))
    by (apply Rmult_le_compat_l; lra).
  assert (U : u * Rabs (l * r) <= u * (Pa + Rabs (l * r)))
    by (apply Rmult_le_compat_l; [lra|pose proof (Rabs_pos P); lra]).
  lra.
Qed.

(** Backward error of one diagonal entry. *)
Lemma diag_entry : forall a P d r g m,
  0 <= g < 1 -> 0 <= m -> 0 <= P ->
  Rabs (d - (a - P)) <= g * (Rabs a + P) + m ->
  (1 - u) * (1 - u) * Rabs (r * r - d) <= (2 * u + u * u) * (r * r) ->
  (1 - u) * (1 - u) * (1 - g) * Rabs (P + r * r - a)
    <= (2 * u + u * u + 2 * g * (1 - u) * (1 - u)) * (P + r * r) + (1 - u) * (1 - u) * m.
Proof.
  intros a P d r g m Hg Hm HP E2 E1.
  pose proof u_pos as Hu. pose proof u_small as Hu4.
  set (D := P + r * r - a).
  assert (R2 : 0 <= r * r) by apply Rle_0_sqr.
  assert (HD : Rabs D <= Rabs (r * r - d) + Rabs (d - (a - P))).
  { replace D with ((r * r - d) + (d - (a - P))) by (unfold D; ring). apply Rabs_triang. }
  assert (Ha : Rabs a <= P + r * r + Rabs D).
  { replace a with (P + r * r - D) by (unfold D; ring).
    eapply Rle_trans; [apply Rabs_triang|]. rewrite Rabs_Ropp.
    rewrite (Rabs_right (P + r * r)) by lra. lra. }
  assert (G1 : g * Rabs a <= g * (P + r * r + Rabs D)) by (apply Rmult_le_compat_l; lra).
  assert (K : (1 - g) * Rabs D <= Rabs (r * r - d) + 2 * g * (P + r * r) + m).
  { assert (0 <= g * (r * r)) by (apply Rmult_le_pos; lra). lra. }
  assert (P1 : 0 <= (1 - u) * (1 - u)) by nra.
  assert (K' : (1 - u) * (1 - u) * ((1 - g) * Rabs D)
               <= (1 - u) * (1 - u) * (Rabs (r * r - d) + 2 * g * (P + r * r) + m))
    by (apply Rmult_le_compat_l; lra).
  assert (U : (2 * u + u * u) * (r * r) <= (2 * u + u * u) * (P + r * r))
    by (apply Rmult_le_compat_l; nra).
  lra.
Qed.

(** The computed pivot is bounded by the largest diagonal entry. *)
Lemma diag_d_bound : forall a P d g m M,
  0 <= g < 1 -> 0 <= P -> 0 <= M -> a <= M ->
  Rabs (d - (a - P)) <= g * (Rabs a + P) + m -> d <= (1 + g) * M + m.
Proof.
  intros a P d g m M Hg HP HM HaM E.
  pose proof (Rabs_le_inv _ _ E) as [_ E'].
  assert (gP : 0 <= g * P) by (apply Rmult_le_pos; lra).
  assert (gP1 : g * P <= 1 * P) by (apply Rmult_le_compat_r; lra).
  destruct (Rle_or_lt 0 a) as [Ha|Ha].
  - rewrite Rabs_right in E' by lra.
    assert (g * a <= g * M) by (apply Rmult_le_compat_l; lra). lra.
  - rewrite Rabs_left in E' by lra.
    assert (0 <= (1 - g) * (- a)) by (apply Rmult_le_pos; lra).
    assert (0 <= g * M) by (apply Rmult_le_pos; lra). lra.
Qed.

Lemma sqrt_le_half : forall d, 0 <= d -> sqrt d <= (1 + d) / 2.
Proof.
  intros d Hd. pose proof (sqrt_sqrt d Hd). pose proof (sqrt_pos d).
  assert (0 <= (1 - sqrt d) * (1 - sqrt d)) by apply Rle_0_sqr. lra.
Qed.

Lemma sum_trunc : forall n j f, (j <= n)%nat -> (forall k, (j <= k)%nat -> (k < n)%nat -> f k = 0) ->
  sum n f = sum j f.
Proof.
  induction n as [|n IH]; intros j f Hj H.
  - replace j with 0%nat by lia. reflexivity.
  - destruct (Nat.eq_dec j (S n)) as [->|Hne]; [reflexivity|].
    simpl. rewrite (IH j f) by (try lia; intros; apply H; lia). rewrite (H n) by lia. ring.
Qed.

Lemma cs_abs : forall n x y, sum n (fun k => Rabs (x k * y k)) <= norm n x * norm n y.
Proof.
  intros n x y.
  pose proof (cauchy_schwarz n (fun k => Rabs (x k)) (fun k => Rabs (y k))) as C.
  assert (Nx : norm n (fun k => Rabs (x k)) = norm n x) by (unfold norm, dot; f_equal; apply sum_sq_abs).
  assert (Ny : norm n (fun k => Rabs (y k)) = norm n y) by (unfold norm, dot; f_equal; apply sum_sq_abs).
  rewrite Nx, Ny in C. eapply Rle_trans; [|exact C].
  unfold dot. rewrite Rabs_right.
  - right. apply sum_ext; intros; apply Rabs_mult.
  - apply Rle_ge, sum_nonneg; intros; apply Rmult_le_pos; apply Rabs_pos.
Qed.

End FloatCholesky.

(** ** Part 3: Rump's criterion for the floating-point Cholesky factorization. *)
(** The constants of the entrywise backward error for dimension n and
    M >= max_j At_jj (see [cholesky_entry_bounds]). *)
Definition entry_constants (n : nat) (beta nu M : R) : Prop :=
  2 * u + u * u + 2 * gamma n * (1 - u) * (1 - u) <= (1 - u) * (1 - u) * (1 - gamma n) * beta /\
  (1 + u) * (1 + (1 + gamma n) * M + INR n * eta) / 2 * (/ 2 * eta) + (1 - u) * (INR n * eta)
    <= (1 - u) * (1 - gamma n) * nu.

Section Rump.
Variable choice : Z -> bool.

(** L is the floating-point Cholesky factor of the symmetric At, run to
    completion: lower triangular; every pivot d_j = fl(At_jj - sum l_jk^2)
    > 0 and L_jj = RN(sqrt d_j); L_ij = RN(fl(At_ij - sum l_ik l_jk) / L_jj);
    every sum in any order (a [FloatDot.tree] over the anchor and the
    products, in any permutation). *)
Definition computed_cholesky (n : nat) (At L : mat) : Prop :=
  (forall i j, (i < n)%nat -> (j < n)%nat -> At i j = At j i) /\
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) /\
  (forall j, (j < n)%nat -> exists t, Permutation (leaves t) (cleaves (At j j) (L j) (L j) j) /\
        0 < fl choice t /\ L j j = RN choice (sqrt (fl choice t))) /\
  (forall i j, (j < i)%nat -> (i < n)%nat -> exists t,
        Permutation (leaves t) (cleaves (At i j) (L i) (L j) j) /\
        L i j = RN choice (fl choice t / L j j)).

(** Common hypotheses and constants: g = gamma_n, m = n eta, and the bound
    Rb on every computed pivot L_jj in terms of M >= max_j At_jj. *)
Lemma gamma_small : forall n, 4 * INR n * u <= 1 -> 0 <= gamma n <= / 3 /\ INR n * u < 1.
Proof.
  intros n Hn. pose proof u_pos. pose proof (pos_INR n).
  assert (Hk : INR n * u <= / 4) by lra.
  assert (Hk0 : 0 <= INR n * u) by (apply Rmult_le_pos; lra).
  split; [|lra]. unfold gamma. split.
  - apply Rmult_le_pos; [lra|apply Rlt_le, Rinv_0_lt_compat; lra].
  - apply (Rmult_le_reg_r (1 - INR n * u)); [lra|].
    unfold Rdiv. rewrite Rmult_assoc, Rinv_l by lra. lra.
Qed.

Lemma sum_sq_self_abs : forall j (f : nat -> R), sum j (fun k => Rabs (f k * f k)) = sum j (fun k => f k * f k).
Proof. intros; apply sum_ext; intros; apply Rabs_right, Rle_ge, Rle_0_sqr. Qed.

Lemma diag_facts : forall n (At L : mat) M j,
  4 * INR n * u <= 1 -> 0 <= M -> (j < n)%nat -> At j j <= M ->
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  (exists t, Permutation (leaves t) (cleaves (At j j) (L j) (L j) j) /\
        0 < fl choice t /\ L j j = RN choice (sqrt (fl choice t))) ->
  0 < L j j /\
  L j j <= (1 + u) * (1 + (1 + gamma n) * M + INR n * eta) / 2 /\
  (1 - u) * (1 - u) * (1 - gamma n) * Rabs (dot n (row L j) (row L j) - At j j)
    <= (2 * u + u * u + 2 * gamma n * (1 - u) * (1 - u)) * sum n (fun k => Rabs (L j k * L j k))
       + (1 - u) * (1 - u) * (INR n * eta).
Proof.
  intros n At L M j Hn HM Hj HaM Hlow (t & HP & Hd & Hr).
  destruct (gamma_small n Hn) as [[Hg0 Hg1] Hnu].
  pose proof u_pos as Hu. pose proof eta_pos as He. pose proof u_small as Hu4.
  set (g := gamma n) in *.
  assert (Hg01 : 0 <= g < 1) by lra. set (d := fl choice t) in *.
  assert (HSj : 2 * INR (S j) * u <= 1).
  { assert (INR (S j) <= INR n) by (apply le_INR; lia).
    assert (INR (S j) * u <= INR n * u) by (apply Rmult_le_compat_r; lra). lra. }
  pose proof (anchored_sum_error choice t (At j j) (L j) (L j) j HP HSj) as E. fold d in E.
  rewrite sum_sq_self_abs in E.
  set (P := sum j (fun k => L j k * L j k)) in *.
  assert (HP0 : 0 <= P) by (apply sum_nonneg; intros; apply Rle_0_sqr).
  assert (Hgj : gamma (S j) <= g) by (apply gamma_mono; [lia|exact Hnu]).
  assert (Hmj : INR (S j) * eta <= INR n * eta) by (apply Rmult_le_compat_r; [lra|apply le_INR; lia]).
  assert (E' : Rabs (d - (At j j - P)) <= g * (Rabs (At j j) + P) + INR n * eta).
  { eapply Rle_trans; [exact E|].
    assert (gamma (S j) * (Rabs (At j j) + P) <= g * (Rabs (At j j) + P))
      by (apply Rmult_le_compat_r; [pose proof (Rabs_pos (At j j)); lra|exact Hgj]).
    lra. }
  destruct (sqrt_step choice d (fl_format choice t) Hd) as (S1 & S2 & S3).
  rewrite <- Hr in S1, S2, S3.
  assert (Hm : 0 <= INR n * eta) by (apply Rmult_le_pos; [apply pos_INR|lra]).
  pose proof (diag_d_bound (At j j) P d g (INR n * eta) M Hg01 HP0 HM HaM E') as Dd.
  split; [exact S3|split].
  - eapply Rle_trans; [exact S2|].
    pose proof (sqrt_le_half d (Rlt_le _ _ Hd)).
    unfold Rdiv. rewrite Rmult_assoc. apply Rmult_le_compat_l; [lra|]. lra.
  - assert (Dot : dot n (row L j) (row L j) = P + L j j * L j j).
    { unfold dot, row. rewrite (sum_trunc n (S j)) by (try lia; intros k Hk1 Hk2; rewrite (Hlow j k) by lia; ring).
      reflexivity. }
    rewrite sum_sq_self_abs.
    change (sum n (fun k => L j k * L j k)) with (dot n (row L j) (row L j)). rewrite Dot.
    apply diag_entry with (d := d); auto.
Qed.

Lemma offdiag_facts : forall n (At L : mat) M i j,
  4 * INR n * u <= 1 -> 0 <= M -> (j < i)%nat -> (i < n)%nat ->
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  0 < L j j -> L j j <= (1 + u) * (1 + (1 + gamma n) * M + INR n * eta) / 2 ->
  (exists t, Permutation (leaves t) (cleaves (At i j) (L i) (L j) j) /\
        L i j = RN choice (fl choice t / L j j)) ->
  (1 - u) * (1 - gamma n) * Rabs (dot n (row L i) (row L j) - At i j)
    <= (u + 2 * gamma n * (1 - u)) * sum n (fun k => Rabs (L i k * L j k))
       + (1 + u) * (1 + (1 + gamma n) * M + INR n * eta) / 2 * (/ 2 * eta) + (1 - u) * (INR n * eta).
Proof.
  intros n At L M i j Hn HM Hji Hi Hlow Hr0 Hrb (t & HP & Hl).
  destruct (gamma_small n Hn) as [[Hg0 Hg1] Hnu].
  pose proof u_pos as Hu. pose proof eta_pos as He. pose proof u_small as Hu4.
  set (g := gamma n) in *.
  assert (Hg01 : 0 <= g < 1) by lra. set (s := fl choice t) in *.
  assert (HSj : 2 * INR (S j) * u <= 1).
  { assert (INR (S j) <= INR n) by (apply le_INR; lia).
    assert (INR (S j) * u <= INR n * u) by (apply Rmult_le_compat_r; lra). lra. }
  pose proof (anchored_sum_error choice t (At i j) (L i) (L j) j HP HSj) as E. fold s in E.
  set (P := sum j (fun k => L i k * L j k)) in *.
  set (Pa := sum j (fun k => Rabs (L i k * L j k))) in *.
  assert (HPa : Rabs P <= Pa) by (unfold P, Pa; eapply Rle_trans; [apply sum_abs|right; reflexivity]).
  assert (Hgj : gamma (S j) <= g) by (apply gamma_mono; [lia|exact Hnu]).
  assert (Hmj : INR (S j) * eta <= INR n * eta) by (apply Rmult_le_compat_r; [lra|apply le_INR; lia]).
  assert (E' : Rabs (s - (At i j - P)) <= g * (Rabs (At i j) + Pa) + INR n * eta).
  { eapply Rle_trans; [exact E|].
    assert (gamma (S j) * (Rabs (At i j) + Pa) <= g * (Rabs (At i j) + Pa))
      by (apply Rmult_le_compat_r; [pose proof (Rabs_pos (At i j)); pose proof (Rabs_pos P); lra|exact Hgj]).
    lra. }
  pose proof (div_step choice s (L j j) Hr0) as Dv. rewrite <- Hl in Dv.
  assert (Hm : 0 <= INR n * eta) by (apply Rmult_le_pos; [apply pos_INR|lra]).
  pose proof (offdiag_entry (At i j) P Pa s (L j j) (L i j) g (INR n * eta)
                Hg01 Hm Hr0 HPa E' Dv) as K.
  assert (Dot : dot n (row L i) (row L j) = P + L i j * L j j).
  { unfold dot, row. rewrite (sum_trunc n (S j)) by (try lia; intros k Hk1 Hk2; rewrite (Hlow j k) by lia; ring).
    reflexivity. }
  assert (Q : Pa + Rabs (L i j * L j j) <= sum n (fun k => Rabs (L i k * L j k))).
  { rewrite (sum_trunc n (S j) (fun k => Rabs (L i k * L j k)))
      by (try lia; intros k Hk1 Hk2; rewrite (Hlow j k) by lia; rewrite Rmult_0_r, Rabs_R0; reflexivity).
    right. reflexivity. }
  rewrite Dot. eapply Rle_trans; [exact K|].
  assert (C1 : 0 <= u + 2 * g * (1 - u)) by nra.
  assert (Q' : (u + 2 * g * (1 - u)) * (Pa + Rabs (L i j * L j j))
               <= (u + 2 * g * (1 - u)) * sum n (fun k => Rabs (L i k * L j k)))
    by (apply Rmult_le_compat_l; assumption).
  assert (R' : L j j * (/ 2 * eta) <= (1 + u) * (1 + (1 + g) * M + INR n * eta) / 2 * (/ 2 * eta))
    by (apply Rmult_le_compat_r; lra).
  lra.
Qed.

(** [cholesky_entry_bounds]: the componentwise backward error of the
    floating-point Cholesky factorization.  If it runs to completion (every
    pivot d_j > 0) with 4 n u <= 1, and beta, nu satisfy
      (1-u)^2 (1-gamma_n) beta >= 2u + u^2 + 2 gamma_n (1-u)^2,
      (1-u) (1-gamma_n) nu >= (1+u)(1 + (1+gamma_n) M + n eta)/2 * eta/2 + (1-u) n eta,
    where M >= 0 bounds every At_jj, then L has positive diagonal and
      |(L L^T)_ij - At_ij| <= beta sum_k |l_ik l_jk| + nu   for all i, j < n
    (Higham, Accuracy and Stability, 2nd ed., Thm 10.3 has gamma_(n+1)
    |L| |L|^T without underflow; ours is about twice that, see below). *)
Lemma cholesky_entry_bounds : forall n (At L : mat) beta nu M,
  4 * INR n * u <= 1 ->
  0 <= beta -> 0 <= nu -> 0 <= M ->
  entry_constants n beta nu M ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  computed_cholesky n At L ->
  (forall j, (j < n)%nat -> 0 < L j j) /\
  (forall i j, (i < n)%nat -> (j < n)%nat ->
     Rabs (dot n (row L i) (row L j) - At i j) <= beta * sum n (fun k => Rabs (L i k * L j k)) + nu).
Proof.
  intros n At L beta nu M Hn Hb Hnu HM [Hbeta Hnu'] HaM (HAt & Hlow & Hdiag & Hsub).
  destruct (gamma_small n Hn) as [[Hg0 Hg1] Hnun].
  pose proof u_pos as Hu. pose proof eta_pos as He. pose proof u_small as Hu4.
  set (g := gamma n) in *.
  set (Rb := (1 + u) * (1 + (1 + g) * M + INR n * eta) / 2) in *.
  assert (Dg : forall j, (j < n)%nat -> 0 < L j j /\ L j j <= Rb /\
      (1 - u) * (1 - u) * (1 - g) * Rabs (dot n (row L j) (row L j) - At j j)
      <= (2 * u + u * u + 2 * g * (1 - u) * (1 - u)) * sum n (fun k => Rabs (L j k * L j k))
         + (1 - u) * (1 - u) * (INR n * eta)).
  { intros j Hj. apply (diag_facts n At L M j Hn HM Hj (HaM j Hj) Hlow (Hdiag j Hj)). }
  assert (Pu : 0 < 1 - u) by lra. assert (Pg : 0 < 1 - g) by lra.
  assert (Nn : forall i j, 0 <= sum n (fun k => Rabs (L i k * L j k)))
    by (intros; apply sum_nonneg; intros; apply Rabs_pos).
  (* lower triangle and diagonal *)
  assert (Low : forall i j, (j <= i)%nat -> (i < n)%nat ->
     Rabs (dot n (row L i) (row L j) - At i j) <= beta * sum n (fun k => Rabs (L i k * L j k)) + nu).
  { intros i j Hji Hi. destruct (Nat.eq_dec i j) as [->|Hne].
    - destruct (Dg j Hi) as (_ & _ & K).
      apply (Rmult_le_reg_l ((1 - u) * (1 - u) * (1 - g))); [apply Rmult_lt_0_compat; [nra|lra]|].
      eapply Rle_trans; [exact K|].
      assert (B1 : (2 * u + u * u + 2 * g * (1 - u) * (1 - u)) * sum n (fun k => Rabs (L j k * L j k))
                   <= ((1 - u) * (1 - u) * (1 - g) * beta) * sum n (fun k => Rabs (L j k * L j k)))
        by (apply Rmult_le_compat_r; [apply Nn|exact Hbeta]).
      assert (B2 : (1 - u) * (INR n * eta) <= (1 - u) * (1 - g) * nu).
      { eapply Rle_trans; [|exact Hnu'].
        assert (0 <= Rb * (/ 2 * eta)) by (unfold Rb; apply Rmult_le_pos; [|lra];
          pose proof (pos_INR n); unfold Rdiv; apply Rmult_le_pos; [apply Rmult_le_pos; nra|lra]).
        unfold Rb in *. lra. }
      assert (B3 : (1 - u) * ((1 - u) * (INR n * eta)) <= (1 - u) * ((1 - u) * (1 - g) * nu))
        by (apply Rmult_le_compat_l; lra).
      lra.
    - assert (Hlt : (j < i)%nat) by lia.
      destruct (Dg j ltac:(lia)) as (Hr0 & Hrb & _).
      pose proof (offdiag_facts n At L M i j Hn HM Hlt Hi Hlow Hr0 Hrb (Hsub i j Hlt Hi)) as K.
      fold g Rb in K.
      apply (Rmult_le_reg_l ((1 - u) * (1 - g))); [apply Rmult_lt_0_compat; lra|].
      eapply Rle_trans; [exact K|].
      assert (Bb : u + 2 * g * (1 - u) <= (1 - u) * (1 - g) * beta).
      { apply (Rmult_le_reg_l (1 - u)); [lra|].
        eapply Rle_trans; [|rewrite <- !Rmult_assoc; exact Hbeta].
        assert (0 <= u * u) by nra. nra. }
      assert (B1 : (u + 2 * g * (1 - u)) * sum n (fun k => Rabs (L i k * L j k))
                   <= ((1 - u) * (1 - g) * beta) * sum n (fun k => Rabs (L i k * L j k)))
        by (apply Rmult_le_compat_r; [apply Nn|exact Bb]).
      lra. }
  split; [intros j Hj; apply (Dg j Hj)|].
  intros i j Hi Hj. destruct (Nat.le_gt_cases j i) as [Hji|Hij].
  - apply Low; assumption.
  - rewrite dot_comm, HAt by assumption.
    rewrite (sum_ext n (fun k => Rabs (L i k * L j k)) (fun k => Rabs (L j k * L i k)))
      by (intros; rewrite Rmult_comm; reflexivity).
    apply Low; [lia|assumption].
Qed.

(** [rump_cholesky_posdef]: if the floating-point Cholesky factorization of
    At (At = A off the diagonal, At_ii <= A_ii - c) runs to completion —
    every pivot d_j > 0 — with 4 n u <= 1, and the shift c satisfies
      beta (tr A + n nu) <= (1 - beta) (c - n nu)
    for constants beta < 1 and nu as in [cholesky_entry_bounds], where
    M >= 0 bounds every At_jj, then A is positive definite.
    (So c ~ 2(n+1)u tr A + O(n^2 eta + n eta M): about twice Rump's
    constant (n+1)u/(1-2(n+1)u) tr A, because our summation analysis is
    forward, not backward; see proofs/README.md.) *)
Theorem rump_cholesky_posdef : forall n (A At L : mat) c beta nu M,
  4 * INR n * u <= 1 ->
  0 <= beta < 1 -> 0 <= nu -> 0 <= c -> 0 <= M ->
  entry_constants n beta nu M ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  computed_cholesky n At L ->
  beta * (trace n A + INR n * nu) <= (1 - beta) * (c - INR n * nu) ->
  posdef n A.
Proof.
  intros n A At L c beta nu M Hn Hb Hnu Hc HM Hk HaM Hoff Hshift Hfac Hconst.
  pose proof (proj1 (proj2 Hfac)) as Hlow.
  destruct (cholesky_entry_bounds n At L beta nu M Hn (proj1 Hb) Hnu HM Hk HaM Hfac)
    as [Hpos HE].
  apply (cholesky_backward_posdef n A At L beta nu c Hb Hnu Hc Hlow Hpos Hoff Hshift); [|exact Hconst].
  intros i j Hi Hj. eapply Rle_trans; [apply HE; assumption|].
  apply Rplus_le_compat_r. rewrite Rmult_assoc. apply Rmult_le_compat_l; [lra|].
  apply (cs_abs n (row L i) (row L j)).
Qed.

(** [rump_measured_posdef]: the a-posteriori criterion.  The same
    factorization hypotheses as [rump_cholesky_posdef]; instead of the trace,
    a bound sqrt r on the spectral norm of |L| (the computed factor, taken
    entrywise in absolute value), and a shift c >= beta r + n nu. *)
Theorem rump_measured_posdef : forall n (A At L : mat) c beta nu M r,
  4 * INR n * u <= 1 ->
  0 <= beta -> 0 <= nu -> 0 <= M -> 0 <= r ->
  entry_constants n beta nu M ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  computed_cholesky n At L ->
  bounded n n (fun k i => Rabs (L i k)) (sqrt r) ->
  beta * r + INR n * nu <= c ->
  posdef n A.
Proof.
  intros n A At L c beta nu M r Hn Hb Hnu HM Hr Hk HaM Hoff Hshift Hfac HK Hc.
  pose proof (proj1 (proj2 Hfac)) as Hlow.
  destruct (cholesky_entry_bounds n At L beta nu M Hn Hb Hnu HM Hk HaM Hfac)
    as [Hpos HE].
  exact (cholesky_backward_posdef_measured n A At L beta nu c r Hb Hnu Hr Hlow Hpos Hoff Hshift HE HK Hc).
Qed.

End Rump.

(** The closed-form constants of the a-posteriori criterion, for every
    format: beta = 2(nu + u)(1 + 4nu + 4u) and nu' = 2 eta (n + 1 + M)
    (for binary64 these are [beta_rust] and [nu_rust] of Part 4; for
    binary32, [beta_binary32] and [nu_binary32] of Part 5). *)
Definition measured_beta (n : nat) : R := 2 * (INR n * u + u) * (1 + 4 * (INR n * u) + 4 * u).
Definition measured_nu (n : nat) (M : R) : R := 2 * eta * (INR n + 1 + M).

(** [measured_constants]: for n u <= 1/8 and M >= 0, these constants satisfy
    the hypotheses of [cholesky_entry_bounds] and [rump_measured_posdef]
    (in every format of the signature: u <= 1/64 and eta <= u). *)
Lemma measured_constants : forall n M, INR n * u <= / 8 -> 0 <= M ->
  4 * INR n * u <= 1 /\ 0 <= measured_beta n /\ 0 <= measured_nu n M /\
  entry_constants n (measured_beta n) (measured_nu n M) M.
Proof.
  intros n M Hx1 HM. unfold measured_beta, measured_nu.
  pose proof u_pos as Hu. pose proof eta_pos as He.
  pose proof u_le_64 as Hu64. pose proof eta_le_u as Heu.
  pose proof (pos_INR n) as Hn0.
  assert (Hne : INR n * eta <= INR n * u) by (apply Rmult_le_compat_l; lra).
  assert (Hne0 : 0 <= INR n * eta) by (apply Rmult_le_pos; lra).
  set (x := INR n * u) in *.
  assert (Hx0 : 0 <= x) by (unfold x; apply Rmult_le_pos; lra).
  assert (H4 : 4 * INR n * u <= 1) by (unfold x in Hx1; lra).
  destruct (gamma_small n H4) as [[Hg0 Hg1] Hnu].
  set (g := gamma n) in *.
  assert (Hgx : g * (1 - x) = x) by (unfold g, gamma, x; field; lra).
  set (beta := 2 * (x + u) * (1 + 4 * x + 4 * u)).
  set (nu := 2 * eta * (INR n + 1 + M)).
  assert (Hb0 : 0 <= beta) by (unfold beta; apply Rmult_le_pos; [apply Rmult_le_pos|]; lra).
  assert (Hnu0 : 0 <= nu) by (unfold nu; apply Rmult_le_pos; lra).
  (* small monomials: x <= 1/8, u <= 1/64 *)
  assert (uu0 : 0 <= u * u) by (apply Rmult_le_pos; lra).
  assert (uu : u * u <= u * / 64) by (apply Rmult_le_compat_l; lra).
  assert (ux0 : 0 <= u * x) by (apply Rmult_le_pos; lra).
  assert (xx0 : 0 <= x * x) by (apply Rmult_le_pos; lra).
  assert (xx : x * x <= x * / 8) by (apply Rmult_le_compat_l; lra).
  assert (uux : u * u * x <= u * u * / 8) by (apply Rmult_le_compat_l; lra).
  assert (uuu : u * u * u <= u * u * / 64) by (apply Rmult_le_compat_l; lra).
  (* the relative constant: (1 - x) (RHS - LHS) is a polynomial in x and u
     whose grouped coefficients are nonnegative for x <= 1/8, u <= 1/64 *)
  assert (Hbeta : 2 * u + u * u + 2 * g * (1 - u) * (1 - u) <= (1 - u) * (1 - u) * (1 - g) * beta).
  { apply (Rmult_le_reg_r (1 - x)); [lra|].
    replace ((2 * u + u * u + 2 * g * (1 - u) * (1 - u)) * (1 - x))
      with ((2 * u + u * u) * (1 - x) + 2 * (g * (1 - x)) * (1 - u) * (1 - u)) by ring.
    replace ((1 - u) * (1 - u) * (1 - g) * beta * (1 - x))
      with ((1 - u) * (1 - u) * (1 - x - g * (1 - x)) * beta) by ring.
    rewrite Hgx. unfold beta.
    assert (G1 : 0 <= x * x * (4 - 16 * x - 40 * u - 16 * (u * u * x) - 32 * (u * u * u)))
      by (apply Rmult_le_pos; lra).
    assert (G2 : 0 <= u * x * (14 - 39 * u - 16 * (u * u * u))) by (apply Rmult_le_pos; lra).
    assert (G3 : 0 <= u * u * (3 - 14 * u)) by (apply Rmult_le_pos; lra).
    assert (G4 : 0 <= u * x * (x * x) * 32 + u * u * (x * x) * 68 + u * u * (u * x) * 44 + (u * u) * (u * u) * 8).
    { assert (0 <= u * x * (x * x)) by (apply Rmult_le_pos; lra).
      assert (0 <= u * u * (x * x)) by (apply Rmult_le_pos; lra).
      assert (0 <= u * u * (u * x)) by (apply Rmult_le_pos; lra).
      assert (0 <= (u * u) * (u * u)) by (apply Rmult_le_pos; lra). lra. }
    match goal with |- ?L <= ?R => assert (E : R - L =
      x * x * (4 - 16 * x - 40 * u - 16 * (u * u * x) - 32 * (u * u * u))
      + u * x * (14 - 39 * u - 16 * (u * u * u)) + u * u * (3 - 14 * u)
      + (u * x * (x * x) * 32 + u * u * (x * x) * 68 + u * u * (u * x) * 44 + (u * u) * (u * u) * 8)) by ring end.
    lra. }
  (* the absolute (underflow) constant: gamma_n <= 2 x <= 1/4, n eta <= n u <= 1/8 *)
  assert (Hg2x : g <= 2 * x).
  { apply (Rmult_le_reg_r (1 - x)); [lra|]. rewrite Hgx.
    assert (x * x <= x * / 2) by (apply Rmult_le_compat_l; lra). lra. }
  assert (Hnu' : (1 + u) * (1 + (1 + g) * M + INR n * eta) / 2 * (/ 2 * eta) + (1 - u) * (INR n * eta)
                 <= (1 - u) * (1 - g) * nu).
  { unfold nu.
    assert (P1 : 7 / 10 <= (1 - u) * (1 - g)).
    { assert (0 <= u * g) by (apply Rmult_le_pos; lra). lra. }
    assert (Q0 : (1 + g) * M <= 2 * M) by (apply Rmult_le_compat_r; lra).
    assert (Q1 : (1 + u) * (1 + (1 + g) * M + INR n * eta) <= 3 / 2 * (2 + 2 * M))
      by (assert (0 <= (1 + g) * M) by (apply Rmult_le_pos; lra); apply Rmult_le_compat; lra).
    assert (Q2 : (1 + u) * (1 + (1 + g) * M + INR n * eta) / 2 * (/ 2 * eta) <= 3 / 2 * (2 + 2 * M) / 2 * (/ 2 * eta)).
    { apply Rmult_le_compat_r; [lra|]. unfold Rdiv. apply Rmult_le_compat_r; lra. }
    assert (Q3 : (1 - u) * (INR n * eta) <= 1 * (INR n * eta)) by (apply Rmult_le_compat_r; lra).
    assert (Q5 : 0 <= 2 * eta * (INR n + 1 + M)) by (apply Rmult_le_pos; lra).
    assert (Q4 : 7 / 10 * (2 * eta * (INR n + 1 + M)) <= (1 - u) * (1 - g) * (2 * eta * (INR n + 1 + M)))
      by (apply Rmult_le_compat_r; [exact Q5|exact P1]).
    assert (0 <= eta * M) by (apply Rmult_le_pos; lra).
    lra. }
  repeat split; assumption.
Qed.

End Criterion.

(** The binary64 instance of Parts 2 and 3, at the top level of this file:
    [computed_cholesky], [rump_cholesky_posdef], [rump_measured_posdef],
    [measured_constants], ... with u = 2^-53 and eta = 2^-1074. *)
Include Criterion FloatRounding.Binary64.

(** ** Part 4: the constant lipcert uses.
    lipcert (src/certify/pd_upper.rs) shifts by
      c = 2 gamma_(n+2) tr(A) + 8 eta n (2(n+1) + max_i A_ii)   (rounded up).
    [rump_cholesky_posdef_rust] shows that this c satisfies the hypotheses of
    [rump_cholesky_posdef], with beta = 2(nu+u)(1+4nu+4u) and
    nu' = 2 eta (n+1+M), for every dimension n <= 2^24 = 16777216 (the
    relative part of our constant is about 2(n+1)u + 8(nu)^2, which exceeds
    2 gamma_(n+2) only when (nu)^2 is of the order of u, i.e. n >~ 5e7). *)
Lemma u_val : u = / 9007199254740992.
Proof. unfold u, prec, FloatRounding.Binary64.prec. simpl. reflexivity. Qed.

Lemma eta_small : eta <= / 1099511627776.
Proof.
  unfold eta, emin, FloatRounding.Binary64.emin.
  replace (/ 1099511627776) with (bpow radix2 (-40)) by (simpl; reflexivity).
  apply bpow_le; lia.
Qed.

Lemma gamma_ge : forall k, INR k * u < 1 -> INR k * u <= gamma k.
Proof.
  intros k Hk. unfold gamma. pose proof u_pos. pose proof (pos_INR k).
  assert (0 <= INR k * u) by (apply Rmult_le_pos; lra).
  unfold Rdiv. rewrite <- (Rmult_1_r (INR k * u)) at 1.
  apply Rmult_le_compat_l; [lra|].
  rewrite <- Rinv_1. apply Rinv_le_contravar; lra.
Qed.

Lemma prod_le1 : forall a b, 0 <= a <= 1 -> 0 <= b <= 1 -> 0 <= a * b <= 1.
Proof. intros a b Ha Hb. split; [apply Rmult_le_pos; lra|]. rewrite <- (Rmult_1_r 1). apply Rmult_le_compat; lra. Qed.

Section RustConstant.
Variable choice : Z -> bool.

(** lipcert's constants for dimension n and M >= max_j At_jj:
    beta = 2(nu + u)(1 + 4nu + 4u) and nu' = 2 eta (n + 1 + M). *)
Definition beta_rust (n : nat) : R := 2 * (INR n * u + u) * (1 + 4 * (INR n * u) + 4 * u).
Definition nu_rust (n : nat) (M : R) : R := 2 * eta * (INR n + 1 + M).

(** [rust_constants]: for n <= 2^24 they satisfy the hypotheses of
    [cholesky_entry_bounds], with beta <= 1/8 and
    beta <= (1 - beta) 2 (n + 2) u <= (1 - beta) 2 gamma_(n+2). *)
Lemma rust_constants : forall n M, INR n <= 16777216 -> 0 <= M ->
  4 * INR n * u <= 1 /\ 0 <= beta_rust n <= / 8 /\ 0 <= nu_rust n M /\
  entry_constants n (beta_rust n) (nu_rust n M) M /\
  beta_rust n <= (1 - beta_rust n) * (2 * (INR n * u + 2 * u)) /\
  INR n * u + 2 * u <= gamma (n + 2).
Proof.
  intros n M Hn HM. unfold beta_rust, nu_rust.
  pose proof u_pos as Hu. pose proof eta_pos as He.
  pose proof (pos_INR n) as Hn0.
  set (x := INR n * u).
  assert (Hx0 : 0 <= x) by (unfold x; apply Rmult_le_pos; lra).
  assert (Hux : u = / 9007199254740992) by apply u_val.
  assert (Hx1 : x <= / 536870912).
  { unfold x. rewrite Hux. apply (Rmult_le_reg_r 9007199254740992); [lra|].
    rewrite Rmult_assoc, Rinv_l by lra. rewrite Rmult_1_r. lra. }
  assert (Hxx : x * x <= u / 32).
  { assert (x * x <= x * / 536870912) by (apply Rmult_le_compat_l; lra).
    rewrite Hux. lra. }
  assert (Hu1 : u <= / 9007199254740992) by lra.
  (* the hypotheses of [cholesky_entry_bounds]: [measured_constants]
     (beta_rust and nu_rust are measured_beta and measured_nu for binary64) *)
  destruct (measured_constants n M ltac:(fold x; lra) HM) as (H4 & _ & Hnu0 & Hk).
  unfold measured_beta, measured_nu in Hk. fold x in Hk.
  set (beta := 2 * (x + u) * (1 + 4 * x + 4 * u)).
  set (nu := 2 * eta * (INR n + 1 + M)).
  assert (Hb0 : 0 <= beta) by (unfold beta; apply Rmult_le_pos; [apply Rmult_le_pos|]; lra).
  assert (Hb1 : beta <= / 8).
  { unfold beta. assert (2 * (x + u) * (1 + 4 * x + 4 * u) <= 2 * (/ 100) * 2)
      by (apply Rmult_le_compat; [apply Rmult_le_pos| |apply Rmult_le_compat_l|]; lra). lra. }
  (* small monomials *)
  assert (Ix : 0 <= x <= 1) by lra. assert (Iu : 0 <= u <= 1) by lra.
  destruct (prod_le1 u u Iu Iu) as [uu0 uu1].
  assert (uu : u * u <= u * / 9007199254740992) by (apply Rmult_le_compat_l; lra).
  assert (ux : u * x <= u * / 536870912) by (apply Rmult_le_compat_l; lra).
  assert (ux0 : 0 <= u * x) by (apply Rmult_le_pos; lra).
  assert (xx0 : 0 <= x * x) by (apply Rmult_le_pos; lra).
  assert (xxx : x * x * x <= x * x * 1) by (apply Rmult_le_compat_l; lra).
  assert (uxx : u * x * x <= u * (u / 32)) by (rewrite Rmult_assoc; apply Rmult_le_compat_l; lra).
  assert (uux : u * u * x <= u * u * 1) by (apply Rmult_le_compat_l; lra).
  assert (uuu : u * u * u <= u * u * 1) by (apply Rmult_le_compat_l; lra).
  assert (Ha : beta <= (1 - beta) * (2 * (x + 2 * u))).
    { unfold beta.
      match goal with |- ?L <= ?R => assert (E : R - L = 2 * (u - 6 * (x * x) - 8 * (x * x * x) - 14 * (u * x)
           - 32 * (u * x * x) - 8 * (u * u) - 40 * (u * u * x) - 16 * (u * u * u))) by ring end.
      lra. }
  assert (Hg2 : x + 2 * u <= gamma (n + 2)).
  { replace (x + 2 * u) with (INR (n + 2) * u) by (unfold x; rewrite plus_INR; simpl; ring).
    apply gamma_ge. rewrite plus_INR. simpl. unfold x in Hx1. lra. }
  exact (conj H4 (conj (conj Hb0 Hb1) (conj Hnu0 (conj Hk (conj Ha Hg2))))).
Qed.

(** [rump_cholesky_posdef_rust]: the criterion with the shift lipcert uses,
    c >= 2 gamma_(n+2) tr(A) + 8 eta n (2(n+1) + M), M >= max_i At_ii, M >= 0,
    for dimensions n <= 2^24 and A with nonnegative diagonal. *)
Theorem rump_cholesky_posdef_rust : forall n (A At L : mat) c M,
  INR n <= 16777216 ->
  0 <= M ->
  (forall i, (i < n)%nat -> 0 <= A i i) ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  computed_cholesky choice n At L ->
  2 * gamma (n + 2) * trace n A + 8 * eta * INR n * (2 * INR (n + 1) + M) <= c ->
  posdef n A.
Proof.
  intros n A At L c M Hn HM HA HaM Hoff Hshift Hfac Hc.
  destruct (rust_constants n M Hn HM) as (H4 & [Hb0 Hb1] & Hnu0 & Hk & Ha & Hg2).
  pose proof u_pos as Hu. pose proof eta_pos as He. pose proof (pos_INR n) as Hn0.
  set (x := INR n * u) in *.
  set (beta := beta_rust n) in *. set (nu := nu_rust n M) in *.
  assert (T0 : 0 <= trace n A) by (apply sum_nonneg; intros; apply HA; assumption).
  assert (K0 : 0 <= 8 * eta * INR n * (2 * INR (n + 1) + M)).
  { rewrite plus_INR. simpl. apply Rmult_le_pos; [apply Rmult_le_pos|]; lra. }
  assert (Hx0 : 0 <= x) by (unfold x; apply Rmult_le_pos; lra).
  assert (GT0 : 0 <= 2 * gamma (n + 2) * trace n A) by (apply Rmult_le_pos; lra).
  assert (Hb : 0 <= beta < 1) by lra.
  assert (Hc0 : 0 <= c) by lra.
  apply (rump_cholesky_posdef choice n A At L c beta nu M H4 Hb Hnu0 Hc0 HM Hk HaM Hoff Hshift Hfac).
  (* the shift inequality *)
  assert (A1 : beta * trace n A <= (1 - beta) * (2 * gamma (n + 2)) * trace n A).
  { apply Rmult_le_compat_r; [exact T0|].
    eapply Rle_trans; [exact Ha|]. apply Rmult_le_compat_l; lra. }
  assert (A2 : INR n * nu <= (1 - beta) * (8 * eta * INR n * (2 * INR (n + 1) + M))).
  { assert (A21 : 7 / 8 * (8 * eta * INR n * (2 * INR (n + 1) + M))
                  <= (1 - beta) * (8 * eta * INR n * (2 * INR (n + 1) + M)))
      by (apply Rmult_le_compat_r; lra).
    unfold nu, nu_rust. rewrite plus_INR in *. simpl in *.
    assert (0 <= eta * INR n * INR n) by (apply Rmult_le_pos; [apply Rmult_le_pos|]; lra).
    assert (0 <= eta * INR n) by (apply Rmult_le_pos; lra).
    assert (0 <= eta * INR n * M) by (apply Rmult_le_pos; [apply Rmult_le_pos|]; lra).
    lra. }
  assert (A3 : (1 - beta) * (2 * gamma (n + 2) * trace n A + 8 * eta * INR n * (2 * INR (n + 1) + M))
               <= (1 - beta) * c) by (apply Rmult_le_compat_l; lra).
  lra.
Qed.


(** [rump_measured_posdef_rust]: the a-posteriori criterion
    ([rump_measured_posdef]) with lipcert's constants: for n <= 2^24, a
    factorization of At that runs to completion, sqrt r >= || |L| ||_2 and
    c >= beta_rust(n) r + n nu_rust(n, M) make A positive definite. *)
Theorem rump_measured_posdef_rust : forall n (A At L : mat) c M r,
  INR n <= 16777216 ->
  0 <= M -> 0 <= r ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  computed_cholesky choice n At L ->
  bounded n n (fun k i => Rabs (L i k)) (sqrt r) ->
  beta_rust n * r + INR n * nu_rust n M <= c ->
  posdef n A.
Proof.
  intros n A At L c M r Hn HM Hr HaM Hoff Hshift Hfac HK Hc.
  destruct (rust_constants n M Hn HM) as (H4 & [Hb0 _] & Hnu0 & Hk & _ & _).
  exact (rump_measured_posdef choice n A At L c (beta_rust n) (nu_rust n M) M r H4 Hb0 Hnu0 HM Hr
           Hk HaM Hoff Hshift Hfac HK Hc).
Qed.

End RustConstant.

(** ** Part 5: the a-posteriori criterion in binary32.
    The same factorization, with every rounding (every product, sum, square
    root and division, in any order, FMAs allowed) an IEEE binary32
    round-to-nearest operation (any tie-breaking rule): Parts 2 and 3
    instantiated with [FloatRounding.Binary32] (prec = 24, emin = -149).
    Its constants are those of [beta_rust] and [nu_rust] with binary32's
      u32   = 2^-24  = 1/16777216 (about 5.96e-8; the unit roundoff) and
      eta32 = 2^-149 (about 1.40e-45; the smallest positive subnormal).
    The criterion holds for every dimension n <= 2^21 = 2097152
    (n u32 <= 1/8, the hypothesis of [measured_constants]); there
    beta_binary32 n <= 2 (1/8 + u32)(3/2 + 4 u32) < 0.38. *)
Module Binary32Criterion := Criterion FloatRounding.Binary32.

Definition u32 : R := bpow radix2 (-24).
Definition eta32 : R := bpow radix2 (-149).

Lemma u32_val : u32 = / 16777216.
Proof. unfold u32. simpl. reflexivity. Qed.

Lemma eta32_val : eta32 = / 713623846352979940529142984724747568191373312.
Proof. unfold eta32. simpl. reflexivity. Qed.

(** The binary32 constants for dimension n and M >= max_j At_jj:
    beta = 2(n u32 + u32)(1 + 4 n u32 + 4 u32), nu' = 2 eta32 (n + 1 + M). *)
Definition beta_binary32 (n : nat) : R :=
  2 * (INR n * u32 + u32) * (1 + 4 * (INR n * u32) + 4 * u32).
Definition nu_binary32 (n : nat) (M : R) : R := 2 * eta32 * (INR n + 1 + M).

(** [rump_measured_posdef_binary32]: the a-posteriori criterion
    ([rump_measured_posdef]) for a Cholesky factorization computed in
    binary32 ([Binary32Criterion.computed_cholesky]: [computed_cholesky]
    with binary32 rounding): for n <= 2^21, a factorization of At that runs
    to completion, sqrt r >= || |L| ||_2 and
    c >= beta_binary32(n) r + n nu_binary32(n, M) make A positive definite. *)
Theorem rump_measured_posdef_binary32 : forall (choice : Z -> bool) n (A At L : mat) c M r,
  INR n <= 2097152 ->
  0 <= M -> 0 <= r ->
  (forall i, (i < n)%nat -> At i i <= M) ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = At i j) ->
  (forall i, (i < n)%nat -> At i i + c <= A i i) ->
  Binary32Criterion.computed_cholesky choice n At L ->
  bounded n n (fun k i => Rabs (L i k)) (sqrt r) ->
  beta_binary32 n * r + INR n * nu_binary32 n M <= c ->
  posdef n A.
Proof.
  intros choice n A At L c M r Hn HM Hr HaM Hoff Hshift Hfac HK Hc.
  assert (Hu : Binary32Criterion.u = u32) by reflexivity.
  assert (He : Binary32Criterion.eta = eta32) by reflexivity.
  assert (Hx : INR n * Binary32Criterion.u <= / 8).
  { rewrite Hu, u32_val. apply (Rmult_le_reg_r 16777216); [lra|].
    rewrite Rmult_assoc, Rinv_l by lra. rewrite Rmult_1_r. lra. }
  destruct (Binary32Criterion.measured_constants n M Hx HM) as (H4 & Hb0 & Hnu0 & Hk).
  unfold Binary32Criterion.measured_beta, Binary32Criterion.measured_nu in Hb0, Hnu0, Hk.
  rewrite Hu in Hb0, Hk. rewrite He in Hnu0, Hk.
  exact (Binary32Criterion.rump_measured_posdef choice n A At L c (beta_binary32 n) (nu_binary32 n M)
           M r H4 Hb0 Hnu0 HM Hr Hk HaM Hoff Hshift Hfac HK Hc).
Qed.
