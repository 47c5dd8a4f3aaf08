(** * Convolution structure: zero padding as a compression, grouped
      convolutions as block-diagonal operators.  All proofs are ours. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Norms.
Open Scope R_scope.

Lemma bounded_comp : forall m p n A B a b, 0 <= a ->
  bounded m p A a -> bounded p n B b ->
  forall x, norm m (matvec p A (matvec n B x)) <= a * b * norm n x.
Proof.
  intros m p n A B a b Ha HA HB x. eapply Rle_trans; [apply HA|].
  rewrite Rmult_assoc. apply Rmult_le_compat_l; [exact Ha|apply HB].
Qed.

(** A matrix whose absolute row sums and column sums are at most 1 (e.g. a
    partial permutation matrix: at most one entry 1 per row and column) has
    spectral norm at most 1. *)
Lemma substochastic_bounded : forall m n E,
  (forall i, (i < m)%nat -> rowsum n E i <= 1) ->
  (forall j, (j < n)%nat -> colsum m E j <= 1) ->
  bounded m n E 1.
Proof.
  intros m n E Hr Hc.
  assert (H := spectral_le_sqrt_l1_linf m n E 1 1 ltac:(lra) ltac:(lra) Hr Hc).
  rewrite Rmult_1_l, sqrt_1 in H. exact H.
Qed.

(** [zero_pad_compression]: a zero-padded convolution is P C E with E the
    zero-fill embedding of the input into the padded (circular) domain of
    size N >= n + pad_before + pad_after and P the coordinate projection on
    the outputs that do not wrap around; both are partial permutation
    matrices.  Hence sigma(zero-padded conv) <= sigma(circular conv C). *)
Theorem zero_pad_compression : forall m N n (P C E : mat) t,
  0 <= t ->
  (forall i, (i < N)%nat -> rowsum n E i <= 1) -> (forall j, (j < n)%nat -> colsum N E j <= 1) ->
  (forall i, (i < m)%nat -> rowsum N P i <= 1) -> (forall j, (j < N)%nat -> colsum m P j <= 1) ->
  bounded N N C t ->
  forall x, norm m (matvec N P (matvec N C (matvec n E x))) <= t * norm n x.
Proof.
  intros m N n P C E t Ht HEr HEc HPr HPc HC x.
  pose proof (substochastic_bounded N n E HEr HEc) as BE.
  pose proof (substochastic_bounded m N P HPr HPc) as BP.
  eapply Rle_trans; [apply BP|]. rewrite Rmult_1_l.
  eapply Rle_trans; [apply HC|]. apply Rmult_le_compat_l; [exact Ht|].
  eapply Rle_trans; [apply BE|]. lra.
Qed.

(** ** Grouped convolutions are block diagonal.
    Rows r < m belong to group [gr r], columns c < n to group [gc c]
    (groups < G); W_rc = 0 unless gr r = gc c.  The block of group g acts on
    the input restricted to the columns of g. *)
Definition ind (b : bool) : R := if b then 1 else 0.
Definition in_group (grp : nat -> nat) (g k : nat) : R := ind (Nat.eqb (grp k) g).
Definition mask (grp : nat -> nat) (g : nat) (x : vec) : vec := fun c => in_group grp g c * x c.

(** |block g x|^2 := sum over rows of group g of (W (mask_g x))_r^2 *)
Definition block_sq (m n : nat) (W : mat) (gr gc : nat -> nat) (g : nat) (x : vec) : R :=
  sum m (fun r => in_group gr g r * (matvec n W (mask gc g x) r * matvec n W (mask gc g x) r)).

Lemma sum_groups : forall G (grp : nat -> nat) k, (grp k < G)%nat ->
  sum G (fun g => in_group grp g k) = 1.
Proof.
  intros G grp k Hk. unfold in_group, ind.
  rewrite (sum_single G _ (grp k) Hk).
  - rewrite Nat.eqb_refl. reflexivity.
  - intros j _ Hj. destruct (Nat.eqb_spec (grp k) j); [congruence|reflexivity].
Qed.

Lemma split_by_groups : forall G n (grp : nat -> nat) f, (forall k, (k < n)%nat -> (grp k < G)%nat) ->
  sum n f = sum G (fun g => sum n (fun k => in_group grp g k * f k)).
Proof.
  intros G n grp f H. rewrite sum_swap. apply sum_ext. intros k Hk.
  rewrite sum_scal_r, sum_groups by (apply H; exact Hk). ring.
Qed.

Lemma in_group_01 : forall grp g k, in_group grp g k * in_group grp g k = in_group grp g k.
Proof. intros. unfold in_group, ind. destruct (Nat.eqb (grp k) g); ring. Qed.

(** [grouped_norm_max]: sigma(W) <= t iff every block has norm <= t; so
    sigma(grouped conv) = max over groups of sigma(block). *)
Theorem grouped_norm_max : forall G m n (W : mat) (gr gc : nat -> nat) t,
  0 <= t ->
  (forall r, (r < m)%nat -> (gr r < G)%nat) -> (forall c, (c < n)%nat -> (gc c < G)%nat) ->
  (forall r c, (r < m)%nat -> (c < n)%nat -> gr r <> gc c -> W r c = 0) ->
  (bounded m n W t <->
   forall g, (g < G)%nat -> forall x, block_sq m n W gr gc g x <= t * t * dot n (mask gc g x) (mask gc g x)).
Proof.
  intros G m n W gr gc t Ht Hgr Hgc Hblk.
  (* on a row of group g, W x only sees the columns of group g *)
  assert (Row : forall g x r, (r < m)%nat -> gr r = g -> matvec n W x r = matvec n W (mask gc g x) r).
  { intros g x r Hr Hg. unfold matvec, mask, in_group, ind. apply sum_ext. intros c Hc.
    destruct (Nat.eqb_spec (gc c) g) as [E|E]; [ring|].
    rewrite Hblk by (try assumption; congruence). ring. }
  split.
  - intros HB g Hg x.
    apply (Rle_trans _ (dot m (matvec n W (mask gc g x)) (matvec n W (mask gc g x)))).
    + unfold block_sq, dot. apply sum_le. intros r Hr. unfold in_group, ind.
      destruct (Nat.eqb (gr r) g); [lra|]. rewrite Rmult_0_l. apply Rle_0_sqr.
    + apply sq_of_norm_le; [exact Ht|apply HB].
  - intros HB x. apply norm_le_of_sq; [exact Ht|].
    unfold dot at 1. rewrite (split_by_groups G m gr _ Hgr).
    assert (RHS : dot n x x = sum G (fun g => dot n (mask gc g x) (mask gc g x))).
    { unfold dot at 1. rewrite (split_by_groups G n gc _ Hgc). apply sum_ext. intros g _.
      unfold dot, mask. apply sum_ext. intros c _.
      replace (in_group gc g c * x c * (in_group gc g c * x c))
        with ((in_group gc g c * in_group gc g c) * (x c * x c)) by ring.
      rewrite in_group_01. reflexivity. }
    rewrite RHS, <- sum_scal_l. apply sum_le. intros g Hg.
    eapply Rle_trans; [|apply (HB g Hg x)].
    unfold block_sq. right. apply sum_ext. intros r Hr. unfold in_group, ind.
    destruct (Nat.eqb_spec (gr r) g) as [E|E]; [|ring].
    rewrite (Row g x r Hr E). reflexivity.
Qed.
