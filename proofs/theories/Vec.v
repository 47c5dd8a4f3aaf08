(** * Finite-dimensional real vectors and matrices, Euclidean norm.

    A vector of dimension n is a function [nat -> R] of which only the
    entries [0 .. n-1] matter; an m x n matrix is a function
    [nat -> nat -> R] of which only the entries [i < m, j < n] matter.
    Sums are finite sums [sum n f = f 0 + ... + f (n-1)].  Everything is
    built on the standard library's real numbers only (no mathcomp, no
    extra axioms), and all proofs are ours. *)
From Coq Require Import Reals Lra Lia.
Open Scope R_scope.

(** ** Finite sums *)
Fixpoint sum (n : nat) (f : nat -> R) : R :=
  match n with O => 0 | S k => sum k f + f k end.

Lemma sum_ext : forall n f g, (forall i, (i < n)%nat -> f i = g i) -> sum n f = sum n g.
Proof.
  induction n as [|n IH]; intros f g H; simpl; [reflexivity|].
  rewrite (IH f g) by (intros; apply H; lia). rewrite (H n) by lia. reflexivity.
Qed.

Lemma sum_zero : forall n, sum n (fun _ => 0) = 0.
Proof. induction n; simpl; [reflexivity|rewrite IHn; ring]. Qed.

Lemma sum_plus : forall n f g, sum n (fun i => f i + g i) = sum n f + sum n g.
Proof. induction n as [|n IH]; intros; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sum_minus : forall n f g, sum n (fun i => f i - g i) = sum n f - sum n g.
Proof. induction n as [|n IH]; intros; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sum_scal_l : forall n c f, sum n (fun i => c * f i) = c * sum n f.
Proof. induction n as [|n IH]; intros; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sum_scal_r : forall n c f, sum n (fun i => f i * c) = sum n f * c.
Proof. induction n as [|n IH]; intros; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sum_le : forall n f g, (forall i, (i < n)%nat -> f i <= g i) -> sum n f <= sum n g.
Proof.
  induction n as [|n IH]; intros f g H; simpl; [lra|].
  apply Rplus_le_compat; [apply IH; intros; apply H; lia|apply H; lia].
Qed.

Lemma sum_nonneg : forall n f, (forall i, (i < n)%nat -> 0 <= f i) -> 0 <= sum n f.
Proof.
  intros n f H. rewrite <- (sum_zero n). apply sum_le. exact H.
Qed.

Lemma sum_abs : forall n f, Rabs (sum n f) <= sum n (fun i => Rabs (f i)).
Proof.
  induction n as [|n IH]; intros; simpl; [rewrite Rabs_R0; lra|].
  eapply Rle_trans; [apply Rabs_triang|]. specialize (IH f). lra.
Qed.

Lemma sum_swap : forall m n (f : nat -> nat -> R),
  sum m (fun i => sum n (fun j => f i j)) = sum n (fun j => sum m (fun i => f i j)).
Proof.
  induction m as [|m IH]; intros n f; simpl.
  - rewrite sum_zero; reflexivity.
  - rewrite IH, <- sum_plus. reflexivity.
Qed.

Lemma sum_term_le : forall n f i, (forall j, (j < n)%nat -> 0 <= f j) -> (i < n)%nat ->
  f i <= sum n f.
Proof.
  induction n as [|n IH]; intros f i H Hi; [lia|simpl].
  destruct (Nat.eq_dec i n) as [->|Hne].
  - assert (0 <= sum n f) by (apply sum_nonneg; intros; apply H; lia). lra.
  - assert (f i <= sum n f) by (apply IH; [intros; apply H; lia|lia]).
    assert (0 <= f n) by (apply H; lia). lra.
Qed.

(** A sum of a function that vanishes except at i < n. *)
Lemma sum_single : forall n f i, (i < n)%nat -> (forall j, (j < n)%nat -> j <> i -> f j = 0) ->
  sum n f = f i.
Proof.
  induction n as [|n IH]; intros f i Hi H; [lia|simpl].
  destruct (Nat.eq_dec i n) as [->|Hne].
  - rewrite (sum_ext n f (fun _ => 0)) by (intros j Hj; apply H; lia).
    rewrite sum_zero; ring.
  - rewrite (IH f i) by (try lia; intros; apply H; lia).
    rewrite (H n) by lia. ring.
Qed.

Lemma sum_nonneg_zero : forall n f, (forall i, (i < n)%nat -> 0 <= f i) -> sum n f = 0 ->
  forall i, (i < n)%nat -> f i = 0.
Proof.
  intros n f H0 Hs i Hi.
  pose proof (sum_term_le n f i H0 Hi). pose proof (H0 i Hi). lra.
Qed.

(** ** Vectors *)
Definition vec := nat -> R.
Definition vadd (x y : vec) : vec := fun i => x i + y i.
Definition vsub (x y : vec) : vec := fun i => x i - y i.
Definition vscale (c : R) (x : vec) : vec := fun i => c * x i.

Definition dot (n : nat) (x y : vec) : R := sum n (fun i => x i * y i).
Definition norm (n : nat) (x : vec) : R := sqrt (dot n x x).

Lemma dot_comm : forall n x y, dot n x y = dot n y x.
Proof. intros; unfold dot; apply sum_ext; intros; ring. Qed.

Lemma dot_self_nonneg : forall n x, 0 <= dot n x x.
Proof. intros; unfold dot; apply sum_nonneg; intros; apply Rle_0_sqr. Qed.

Lemma norm_nonneg : forall n x, 0 <= norm n x.
Proof. intros; apply sqrt_pos. Qed.

Lemma norm_sq : forall n x, norm n x * norm n x = dot n x x.
Proof. intros; unfold norm; apply sqrt_sqrt, dot_self_nonneg. Qed.

(** Cauchy-Schwarz: (x.y)^2 <= (x.x)(y.y). *)
Lemma cauchy_schwarz_sq : forall n x y, dot n x y * dot n x y <= dot n x x * dot n y y.
Proof.
  unfold dot; induction n as [|n IH]; intros x y; simpl; [lra|].
  specialize (IH x y).
  set (S := sum n (fun i => x i * y i)) in *.
  set (X := sum n (fun i => x i * x i)) in *.
  set (Y := sum n (fun i => y i * y i)) in *.
  assert (HX : 0 <= X) by (apply sum_nonneg; intros; apply Rle_0_sqr).
  assert (HY : 0 <= Y) by (apply sum_nonneg; intros; apply Rle_0_sqr).
  set (a := x n); set (b := y n).
  set (P := X * (b * b)); set (Q := a * a * Y).
  assert (HP : 0 <= P) by (unfold P; apply Rmult_le_pos; [lra|apply Rle_0_sqr]).
  assert (HQ : 0 <= Q) by (unfold Q; apply Rmult_le_pos; [apply Rle_0_sqr|lra]).
  assert (Hab : (S * (a * b)) * (S * (a * b)) <= P * Q).
  { replace ((S * (a * b)) * (S * (a * b))) with ((S * S) * ((a * a) * (b * b))) by ring.
    replace (P * Q) with ((X * Y) * ((a * a) * (b * b))) by (unfold P, Q; ring).
    apply Rmult_le_compat_r; [apply Rmult_le_pos; apply Rle_0_sqr|exact IH]. }
  assert (H2 : 2 * (S * (a * b)) <= P + Q).
  { assert (Hsq : (2 * (S * (a * b))) * (2 * (S * (a * b))) <= (P + Q) * (P + Q)).
    { assert (0 <= (P - Q) * (P - Q)) by apply Rle_0_sqr. lra. }
    destruct (Rle_or_lt (2 * (S * (a * b))) (P + Q)) as [h|h]; [exact h|].
    assert ((P + Q) * (P + Q) < (2 * (S * (a * b))) * (2 * (S * (a * b))))
      by (apply Rmult_le_0_lt_compat; lra).
    lra. }
  replace ((S + a * b) * (S + a * b)) with (S * S + 2 * (S * (a * b)) + (a * a) * (b * b)) by ring.
  replace ((X + a * a) * (Y + b * b)) with (X * Y + P + Q + (a * a) * (b * b)) by (unfold P, Q; ring).
  lra.
Qed.

Lemma cauchy_schwarz : forall n x y, Rabs (dot n x y) <= norm n x * norm n y.
Proof.
  intros n x y.
  pose proof (norm_nonneg n x); pose proof (norm_nonneg n y).
  rewrite <- (Rabs_right (norm n x * norm n y)) by (apply Rle_ge, Rmult_le_pos; assumption).
  apply Rsqr_le_abs_0. unfold Rsqr.
  replace (norm n x * norm n y * (norm n x * norm n y))
    with ((norm n x * norm n x) * (norm n y * norm n y)) by ring.
  rewrite !norm_sq. apply cauchy_schwarz_sq.
Qed.

Lemma dot_add_l : forall n x y z, dot n (vadd x y) z = dot n x z + dot n y z.
Proof. intros; unfold dot, vadd; rewrite <- sum_plus; apply sum_ext; intros; ring. Qed.
Lemma dot_add_r : forall n x y z, dot n z (vadd x y) = dot n z x + dot n z y.
Proof. intros; unfold dot, vadd; rewrite <- sum_plus; apply sum_ext; intros; ring. Qed.

(** If a.a <= c^2 (b.b) with c >= 0 then |a| <= c |b|. *)
Lemma norm_le_of_sq : forall m n a b c, 0 <= c ->
  dot m a a <= c * c * dot n b b -> norm m a <= c * norm n b.
Proof.
  intros m n a b c Hc H. unfold norm.
  rewrite <- (sqrt_square c) by exact Hc.
  rewrite <- sqrt_mult by (try apply Rle_0_sqr; apply dot_self_nonneg).
  apply sqrt_le_1; [apply dot_self_nonneg| |exact H].
  apply Rmult_le_pos; [apply Rle_0_sqr|apply dot_self_nonneg].
Qed.

(** Conversely, |a| <= c |b| gives a.a <= c^2 (b.b). *)
Lemma sq_of_norm_le : forall m n a b c, 0 <= c ->
  norm m a <= c * norm n b -> dot m a a <= c * c * dot n b b.
Proof.
  intros m n a b c Hc H.
  rewrite <- (norm_sq m a), <- (norm_sq n b).
  pose proof (norm_nonneg m a).
  replace (c * c * (norm n b * norm n b)) with ((c * norm n b) * (c * norm n b)) by ring.
  apply Rmult_le_compat; assumption.
Qed.

(** Minkowski (triangle inequality). *)
Lemma norm_triangle : forall n x y, norm n (vadd x y) <= norm n x + norm n y.
Proof.
  intros n x y.
  pose proof (norm_nonneg n x); pose proof (norm_nonneg n y).
  unfold norm at 1.
  rewrite <- (sqrt_square (norm n x + norm n y)) by lra.
  apply sqrt_le_1; [apply dot_self_nonneg|apply Rle_0_sqr|].
  rewrite dot_add_l, !dot_add_r.
  rewrite (dot_comm n y x).
  pose proof (cauchy_schwarz n x y) as C.
  pose proof (Rle_abs (dot n x y)).
  rewrite <- (norm_sq n x), <- (norm_sq n y). nra.
Qed.

Lemma norm_scale : forall n c x, norm n (vscale c x) = Rabs c * norm n x.
Proof.
  intros n c x. unfold norm, vscale, dot.
  rewrite (sum_ext n _ (fun i => (c * c) * (x i * x i))) by (intros; ring).
  rewrite sum_scal_l, sqrt_mult by (try apply Rle_0_sqr; apply sum_nonneg; intros; apply Rle_0_sqr).
  f_equal. apply sqrt_Rsqr_abs.
Qed.

Lemma norm_ext : forall n x y, (forall i, (i < n)%nat -> x i = y i) -> norm n x = norm n y.
Proof. intros n x y H; unfold norm, dot; f_equal; apply sum_ext; intros i Hi; rewrite H by lia; reflexivity. Qed.

Lemma norm_zero_iff : forall n x, norm n x = 0 -> forall i, (i < n)%nat -> x i = 0.
Proof.
  intros n x H i Hi.
  assert (D : dot n x x = 0) by (rewrite <- norm_sq, H; ring).
  unfold dot in D.
  pose proof (sum_nonneg_zero n (fun i => x i * x i) (fun i _ => Rle_0_sqr (x i)) D i Hi) as E.
  simpl in E. nra.
Qed.

Lemma norm_pos : forall n x i, (i < n)%nat -> x i <> 0 -> 0 < norm n x.
Proof.
  intros n x i Hi Hx. destruct (norm_nonneg n x) as [h|h]; [exact h|].
  exfalso. apply Hx. apply (norm_zero_iff n x); auto.
Qed.

Lemma nonzero_or_zero : forall n (x : vec),
  (exists i, (i < n)%nat /\ x i <> 0) \/ (forall i, (i < n)%nat -> x i = 0).
Proof.
  induction n as [|n IH]; intro x.
  - right; intros; lia.
  - destruct (Req_dec (x n) 0) as [Z|NZ].
    + destruct (IH x) as [(i & Hi & Hx)|H].
      * left; exists i; split; [lia|exact Hx].
      * right; intros i Hi. destruct (Nat.eq_dec i n) as [->|Hne]; [exact Z|apply H; lia].
    + left; exists n; split; [lia|exact NZ].
Qed.

(** The last nonzero entry. *)
Lemma last_nonzero : forall n (x : vec), (exists i, (i < n)%nat /\ x i <> 0) ->
  exists i, (i < n)%nat /\ x i <> 0 /\ forall l, (i < l)%nat -> (l < n)%nat -> x l = 0.
Proof.
  induction n as [|n IH]; intros x (i & Hi & Hx); [lia|].
  destruct (Req_dec (x n) 0) as [Z|NZ].
  - destruct (IH x) as (j & Hj & Hxj & Hl).
    + exists i; split; [|exact Hx]. destruct (Nat.eq_dec i n) as [->|]; [contradiction|lia].
    + exists j; repeat split; [lia|exact Hxj|]. intros l H1 H2.
      destruct (Nat.eq_dec l n) as [->|]; [exact Z|apply Hl; lia].
  - exists n; repeat split; [lia|exact NZ|]. intros; lia.
Qed.

Lemma dot_zero_l : forall n x y, (forall i, (i < n)%nat -> x i = 0) -> dot n x y = 0.
Proof.
  intros n x y H. unfold dot. rewrite (sum_ext n _ (fun _ => 0)) by (intros i Hi; rewrite H by exact Hi; ring).
  apply sum_zero.
Qed.

(** ** Matrices *)
Definition mat := nat -> nat -> R.

(** (A x)_i = sum_{j<n} A_ij x_j for an m x n matrix A. *)
Definition matvec (n : nat) (A : mat) (x : vec) : vec := fun i => sum n (fun j => A i j * x j).
Definition transpose (A : mat) : mat := fun i j => A j i.
(** (A B)_ik = sum_{j<p} A_ij B_jk. *)
Definition matmul (p : nat) (A B : mat) : mat := fun i k => sum p (fun j => A i j * B j k).

Lemma matvec_sub : forall n A x y i,
  matvec n A (vsub x y) i = matvec n A x i - matvec n A y i.
Proof. intros; unfold matvec, vsub; rewrite <- sum_minus; apply sum_ext; intros; ring. Qed.

Lemma matvec_add : forall n A x y i,
  matvec n A (vadd x y) i = matvec n A x i + matvec n A y i.
Proof. intros; unfold matvec, vadd; rewrite <- sum_plus; apply sum_ext; intros; ring. Qed.

Lemma matvec_ext : forall n A x y, (forall j, (j < n)%nat -> x j = y j) ->
  forall i, matvec n A x i = matvec n A y i.
Proof. intros; unfold matvec; apply sum_ext; intros j Hj; rewrite H by lia; reflexivity. Qed.

(** <A x, y> = <x, A^T y> for an m x n matrix A. *)
Lemma adjoint : forall m n A x y,
  dot m (matvec n A x) y = dot n x (matvec m (transpose A) y).
Proof.
  intros. unfold dot, matvec, transpose.
  rewrite (sum_ext m _ (fun i => sum n (fun j => A i j * x j * y i)))
    by (intros; rewrite <- sum_scal_r; reflexivity).
  rewrite sum_swap. apply sum_ext; intros j Hj.
  rewrite <- sum_scal_l. apply sum_ext; intros; ring.
Qed.

(** (A B) x = A (B x) for A m x p, B p x n. *)
Lemma matvec_matmul : forall p n A B x i,
  matvec n (matmul p A B) x i = matvec p A (matvec n B x) i.
Proof.
  intros. unfold matvec, matmul.
  rewrite (sum_ext n _ (fun k => sum p (fun j => A i j * B j k * x k)))
    by (intros; rewrite <- sum_scal_r; reflexivity).
  rewrite sum_swap. apply sum_ext; intros j Hj.
  rewrite <- sum_scal_l. apply sum_ext; intros; ring.
Qed.

(** "sigma(A) <= t": the operator-norm bound of an m x n matrix, stated
    without singular values. *)
Definition bounded (m n : nat) (A : mat) (t : R) : Prop :=
  forall x, norm m (matvec n A x) <= t * norm n x.

(** Frobenius norm. *)
Definition frobenius (m n : nat) (A : mat) : R :=
  sqrt (sum m (fun i => sum n (fun j => A i j * A i j))).
