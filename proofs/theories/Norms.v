(** * Upper bounds on the spectral norm and exact l1 / l-infinity norms.

    "sigma(A) <= t" is [Vec.bounded m n A t]: for all x, |A x|_2 <= t |x|_2,
    which needs no singular value decomposition.  All proofs are ours. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec.
Open Scope R_scope.

Lemma Sq : forall z, z * z = Rabs z * Rabs z.
Proof. intro z. rewrite <- Rabs_mult, Rabs_right; [reflexivity|apply Rle_ge, Rle_0_sqr]. Qed.

Lemma sum_sq_abs : forall n f, sum n (fun j => Rabs (f j) * Rabs (f j)) = sum n (fun j => f j * f j).
Proof.
  intros; apply sum_ext; intros.
  rewrite <- Rabs_mult, Rabs_right; [reflexivity|apply Rle_ge, Rle_0_sqr].
Qed.

(** Weighted Cauchy-Schwarz: (sum w a)^2 <= (sum w)(sum w a^2) for w >= 0. *)
Lemma weighted_cs : forall n (w a : nat -> R), (forall j, (j < n)%nat -> 0 <= w j) ->
  sum n (fun j => w j * a j) * sum n (fun j => w j * a j)
  <= sum n w * sum n (fun j => w j * (a j * a j)).
Proof.
  intros n w a Hw.
  pose proof (cauchy_schwarz_sq n (fun j => sqrt (w j)) (fun j => sqrt (w j) * a j)) as C.
  unfold dot in C.
  assert (E1 : sum n (fun j => sqrt (w j) * (sqrt (w j) * a j)) = sum n (fun j => w j * a j)).
  { apply sum_ext; intros j Hj. rewrite <- Rmult_assoc, sqrt_sqrt by (apply Hw; lia). reflexivity. }
  assert (E2 : sum n (fun j => sqrt (w j) * sqrt (w j)) = sum n w).
  { apply sum_ext; intros j Hj. apply sqrt_sqrt; apply Hw; lia. }
  assert (E3 : sum n (fun j => sqrt (w j) * a j * (sqrt (w j) * a j)) = sum n (fun j => w j * (a j * a j))).
  { apply sum_ext; intros j Hj.
    replace (sqrt (w j) * a j * (sqrt (w j) * a j)) with ((sqrt (w j) * sqrt (w j)) * (a j * a j)) by ring.
    rewrite sqrt_sqrt by (apply Hw; lia). reflexivity. }
  rewrite E1, E2, E3 in C. exact C.
Qed.

Lemma abs_matvec_le : forall n A x i,
  Rabs (matvec n A x i) <= sum n (fun j => Rabs (A i j) * Rabs (x j)).
Proof.
  intros. unfold matvec. eapply Rle_trans; [apply sum_abs|].
  apply sum_le; intros; rewrite Rabs_mult; lra.
Qed.

(** [spectral_le_frobenius]: sigma(A) <= |A|_F. *)
Theorem spectral_le_frobenius : forall m n A, bounded m n A (frobenius m n A).
Proof.
  intros m n A x. unfold frobenius.
  apply norm_le_of_sq; [apply sqrt_pos|].
  rewrite sqrt_sqrt by (apply sum_nonneg; intros; apply sum_nonneg; intros; apply Rle_0_sqr).
  unfold dot at 1. rewrite <- sum_scal_r. apply sum_le. intros i Hi.
  apply (cauchy_schwarz_sq n (A i) x).
Qed.

(** Absolute row sums and column sums. *)
Definition rowsum (n : nat) (A : mat) (i : nat) : R := sum n (fun j => Rabs (A i j)).
Definition colsum (m : nat) (A : mat) (j : nat) : R := sum m (fun i => Rabs (A i j)).

(** [spectral_le_weighted_schur]: the weighted Schur test. If w > 0 and z
    satisfy |A| w <= z and |A|^T z <= r w entrywise, then sigma(A) <= sqrt r.
    (I. Schur, J. reine angew. Math. 140 (1911); e.g. P. R. Halmos and
    V. S. Sunder, Bounded Integral Operators on L2 Spaces, Thm 5.2.)  With w
    a Perron vector of |A|^T |A| and z = |A| w the bound is sharp for |A|:
    lipcert measures the spectral norm of |L| this way after a Cholesky
    factorization (src/certify/abs_norm.rs). *)
Theorem spectral_le_weighted_schur : forall m n A (w z : vec) r,
  0 <= r ->
  (forall j, (j < n)%nat -> 0 < w j) ->
  (forall i, (i < m)%nat -> sum n (fun j => Rabs (A i j) * w j) <= z i) ->
  (forall j, (j < n)%nat -> sum m (fun i => Rabs (A i j) * z i) <= r * w j) ->
  bounded m n A (sqrt r).
Proof.
  intros m n A w z r Hr Hw Hz Hzr x.
  apply norm_le_of_sq; [apply sqrt_pos|].
  rewrite sqrt_sqrt by exact Hr. unfold dot.
  assert (Q : forall j, (j < n)%nat -> 0 <= x j * x j / w j).
  { intros j Hj. pose proof (Hw j Hj). unfold Rdiv.
    apply Rmult_le_pos; [apply Rle_0_sqr|apply Rlt_le, Rinv_0_lt_compat; lra]. }
  (* row i: (Ax)_i^2 <= z_i * sum_j |A_ij| x_j^2 / w_j *)
  assert (Row : forall i, (i < m)%nat ->
    matvec n A x i * matvec n A x i <= z i * sum n (fun j => Rabs (A i j) * (x j * x j / w j))).
  { intros i Hi.
    pose proof (abs_matvec_le n A x i) as H1.
    assert (P : 0 <= sum n (fun j => Rabs (A i j) * Rabs (x j)))
      by (apply sum_nonneg; intros; apply Rmult_le_pos; apply Rabs_pos).
    assert (S1 : matvec n A x i * matvec n A x i
                 <= sum n (fun j => Rabs (A i j) * Rabs (x j)) * sum n (fun j => Rabs (A i j) * Rabs (x j))).
    { rewrite (Sq (matvec n A x i)). apply Rmult_le_compat; try apply Rabs_pos; assumption. }
    eapply Rle_trans; [exact S1|].
    rewrite (sum_ext n (fun j => Rabs (A i j) * Rabs (x j))
                       (fun j => Rabs (A i j) * w j * (Rabs (x j) / w j)))
      by (intros j Hj; pose proof (Hw j Hj); field; lra).
    eapply Rle_trans.
    { apply (weighted_cs n (fun j => Rabs (A i j) * w j) (fun j => Rabs (x j) / w j)).
      intros j Hj. pose proof (Hw j Hj). apply Rmult_le_pos; [apply Rabs_pos|lra]. }
    rewrite (sum_ext n (fun j => Rabs (A i j) * w j * (Rabs (x j) / w j * (Rabs (x j) / w j)))
                       (fun j => Rabs (A i j) * (x j * x j / w j)))
      by (intros j Hj; pose proof (Hw j Hj); rewrite (Sq (x j)); field; lra).
    apply Rmult_le_compat_r; [|apply Hz; exact Hi].
    apply sum_nonneg; intros j Hj. apply Rmult_le_pos; [apply Rabs_pos|apply Q; exact Hj]. }
  eapply Rle_trans; [apply sum_le; exact Row|].
  (* sum_i z_i sum_j |A_ij| x_j^2/w_j = sum_j (x_j^2/w_j) sum_i |A_ij| z_i *)
  rewrite (sum_ext m _ (fun i => sum n (fun j => Rabs (A i j) * z i * (x j * x j / w j))))
    by (intros i _; rewrite <- sum_scal_l; apply sum_ext; intros; ring).
  rewrite sum_swap, <- sum_scal_l. apply sum_le. intros j Hj.
  rewrite sum_scal_r. pose proof (Hw j Hj).
  replace (r * (x j * x j)) with (r * w j * (x j * x j / w j)) by (field; lra).
  apply Rmult_le_compat_r; [apply Q; exact Hj|apply Hzr; exact Hj].
Qed.

(** [spectral_le_sqrt_l1_linf]: sigma(A) <= sqrt(|A|_1 |A|_inf) (Schur test),
    for any upper bounds c on the column sums and r on the row sums: the
    weighted test with w = 1 and z = r. *)
Theorem spectral_le_sqrt_l1_linf : forall m n A r c,
  0 <= r -> 0 <= c ->
  (forall i, (i < m)%nat -> rowsum n A i <= r) ->
  (forall j, (j < n)%nat -> colsum m A j <= c) ->
  bounded m n A (sqrt (r * c)).
Proof.
  intros m n A r c Hr Hc Hrow Hcol.
  apply (spectral_le_weighted_schur m n A (fun _ => 1) (fun _ => r)).
  - apply Rmult_le_pos; assumption.
  - intros; lra.
  - intros i Hi. rewrite (sum_ext n _ (fun j => Rabs (A i j))) by (intros; ring). apply Hrow; exact Hi.
  - intros j Hj. rewrite sum_scal_r, Rmult_1_r, Rmult_comm.
    apply Rmult_le_compat_l; [exact Hr|apply Hcol; exact Hj].
Qed.

(** l1 and l-infinity norms of vectors. *)
Definition norm1 (n : nat) (x : vec) : R := sum n (fun i => Rabs (x i)).

Fixpoint norminf (n : nat) (x : vec) : R :=
  match n with O => 0 | S k => Rmax (norminf k x) (Rabs (x k)) end.

Lemma norminf_nonneg : forall n x, 0 <= norminf n x.
Proof. induction n; intros; simpl; [lra|eapply Rle_trans; [apply IHn|apply Rmax_l]]. Qed.

Lemma norminf_ge : forall n x i, (i < n)%nat -> Rabs (x i) <= norminf n x.
Proof.
  induction n as [|n IH]; intros x i Hi; [lia|simpl].
  destruct (Nat.eq_dec i n) as [->|Hne]; [apply Rmax_r|].
  eapply Rle_trans; [apply IH; lia|apply Rmax_l].
Qed.

Lemma norminf_le : forall n x B, 0 <= B -> (forall i, (i < n)%nat -> Rabs (x i) <= B) -> norminf n x <= B.
Proof.
  induction n as [|n IH]; intros x B HB H; simpl; [exact HB|].
  apply Rmax_lub; [apply IH; auto|apply H; lia].
Qed.

(** [l1_norm_max_col]: |A x|_1 <= c |x|_1 when every absolute column sum is
    <= c; and the bound is attained at the unit vector of a column, so the
    l1 operator norm is exactly the largest absolute column sum. *)
Theorem l1_norm_max_col : forall m n A c,
  (forall j, (j < n)%nat -> colsum m A j <= c) ->
  forall x, norm1 m (matvec n A x) <= c * norm1 n x.
Proof.
  intros m n A c Hc x. unfold norm1.
  eapply Rle_trans; [apply sum_le; intros i _; apply abs_matvec_le|].
  rewrite sum_swap, <- sum_scal_l. apply sum_le. intros j Hj.
  rewrite sum_scal_r. apply Rmult_le_compat_r; [apply Rabs_pos|apply Hc; exact Hj].
Qed.

Definition unit (j : nat) : vec := fun i => if Nat.eq_dec i j then 1 else 0.

Theorem l1_norm_col_attained : forall m n A j, (j < n)%nat ->
  norm1 n (unit j) = 1 /\ norm1 m (matvec n A (unit j)) = colsum m A j.
Proof.
  intros m n A j Hj. unfold norm1, colsum. split.
  - rewrite (sum_single n _ j Hj).
    + unfold unit. destruct (Nat.eq_dec j j); [apply Rabs_R1|congruence].
    + intros i _ Hij. unfold unit. destruct (Nat.eq_dec i j); [congruence|apply Rabs_R0].
  - apply sum_ext. intros i Hi. f_equal. unfold matvec.
    rewrite (sum_single n _ j Hj).
    + unfold unit. destruct (Nat.eq_dec j j); [ring|congruence].
    + intros l _ Hl. unfold unit. destruct (Nat.eq_dec l j); [congruence|ring].
Qed.

(** [linf_norm_max_row]: |A x|_inf <= r |x|_inf when every absolute row sum
    is <= r; attained by the sign vector of a row. *)
Theorem linf_norm_max_row : forall m n A r, 0 <= r ->
  (forall i, (i < m)%nat -> rowsum n A i <= r) ->
  forall x, norminf m (matvec n A x) <= r * norminf n x.
Proof.
  intros m n A r Hr Hrow x.
  apply norminf_le; [apply Rmult_le_pos; [exact Hr|apply norminf_nonneg]|].
  intros i Hi. eapply Rle_trans; [apply abs_matvec_le|].
  eapply Rle_trans.
  - apply sum_le. intros j Hj. apply Rmult_le_compat_l; [apply Rabs_pos|].
    apply (norminf_ge n x j Hj).
  - rewrite sum_scal_r. apply Rmult_le_compat_r; [apply norminf_nonneg|apply Hrow; exact Hi].
Qed.

Definition sign_row (A : mat) (i : nat) : vec := fun j => if Rle_dec 0 (A i j) then 1 else -1.

Theorem linf_norm_row_attained : forall m n A i, (i < m)%nat ->
  norminf n (sign_row A i) <= 1 /\ matvec n A (sign_row A i) i = rowsum n A i.
Proof.
  intros m n A i Hi. split.
  - apply norminf_le; [lra|]. intros j _. unfold sign_row.
    destruct (Rle_dec 0 (A i j)); unfold Rabs; destruct Rcase_abs; lra.
  - unfold matvec, rowsum. apply sum_ext. intros j _. unfold sign_row.
    destruct (Rle_dec 0 (A i j)).
    + rewrite Rabs_right by lra. ring.
    + rewrite Rabs_left by lra. ring.
Qed.

(** Matrix sum. *)
Definition madd (A B : mat) : mat := fun i j => A i j + B i j.

(** [weyl_upper]: sigma(A + E) <= sigma(A) + sigma(E), in bound form. *)
Theorem weyl_upper : forall m n A E a e,
  bounded m n A a -> bounded m n E e -> bounded m n (madd A E) (a + e).
Proof.
  intros m n A E a e HA HE x.
  rewrite (norm_ext m _ (vadd (matvec n A x) (matvec n E x))).
  - eapply Rle_trans; [apply norm_triangle|]. specialize (HA x); specialize (HE x). lra.
  - intros i _. unfold matvec, madd, vadd. rewrite <- sum_plus. apply sum_ext; intros; ring.
Qed.

(** Entrywise domination: if |E_ij| <= B_ij then sigma(E) <= sigma(B). Used to
    turn an entrywise rounding-error bound into a spectral one. *)
Theorem spectral_le_abs : forall m n E B t,
  (forall i j, (i < m)%nat -> (j < n)%nat -> Rabs (E i j) <= B i j) ->
  bounded m n B t -> bounded m n E t.
Proof.
  intros m n E B t HEB HB x.
  set (ax := fun j => Rabs (x j)).
  assert (Hax : norm n ax = norm n x).
  { unfold norm, dot, ax. f_equal. apply sum_sq_abs. }
  rewrite <- Hax. eapply Rle_trans; [|apply HB].
  unfold norm. apply sqrt_le_1; [apply dot_self_nonneg|apply dot_self_nonneg|].
  unfold dot. apply sum_le. intros i Hi.
  assert (H1 : Rabs (matvec n E x i) <= matvec n B ax i).
  { eapply Rle_trans; [apply abs_matvec_le|]. unfold matvec, ax.
    apply sum_le. intros j Hj. apply Rmult_le_compat_r; [apply Rabs_pos|apply HEB; assumption]. }
  rewrite <- (Rabs_right (matvec n E x i * matvec n E x i)) by (apply Rle_ge, Rle_0_sqr).
  rewrite Rabs_mult. pose proof (Rabs_pos (matvec n E x i)).
  apply Rmult_le_compat; assumption.
Qed.

(** The Frobenius norm of |A| is that of A. *)
Lemma frobenius_abs : forall m n A, frobenius m n (fun i j => Rabs (A i j)) = frobenius m n A.
Proof.
  intros. unfold frobenius. f_equal. apply sum_ext. intros i _. apply sum_sq_abs.
Qed.
