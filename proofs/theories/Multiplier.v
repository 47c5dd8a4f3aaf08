(** * The LipSDP-Neuron segment certificate (src/network/bounds/segment.rs).

    A segment of a network is written with the variables w = (x, u_0, ...)
    (the input, then every activation neuron's output): neuron i reads
    z_i = (L w)_i + c_i, outputs w_(e i) = phi_i(z_i), and the segment's
    output is O w plus a constant.  With multipliers t_i >= 0 and slopes
    [a_i, b_i], the matrix

      M = O^T O - rho E_0^T E_0
          + sum_i t_i ((a_i + b_i)(e_(e i) l_i^T + l_i e_(e i)^T)
                       - 2 e_(e i) e_(e i)^T - 2 a_i b_i l_i l_i^T)

    ([seg_matrix]; l_i the i-th row of L, e_j the j-th unit vector, E_0 the
    selection of the first n variables) is the one segment.rs assembles
    (there c_1 = a + b, c_2 = -2ab, T = diag(t)).  Theorem
    [segment_certificate]: if v^T M v <= 0 for every v, the segment is
    sqrt(rho)-Lipschitz.  The per-neuron step is [slope_constraint]:
    every difference quotient of phi in [a, b] gives
    (du - a dz)(b dz - du) >= 0.  Max pooling enters through its
    tournament form ([max_tournament], [half_abs_slope_restricted]).

    Not proved here: that segment.rs's walk builds L, O and e such that the
    network's values satisfy the hypotheses of the theorem (that is the
    module's "Setting"), and the floating-point certification of M's
    negative definiteness (Cholesky.v, [rump_cholesky_posdef_rust], with
    the error bounds of the module docs). *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec.
Open Scope R_scope.

(** ** Slope restriction *)

(** Every difference quotient of f lies in [a, b]. *)
Definition slope_restricted (a b : R) (f : R -> R) : Prop :=
  forall x y, x <> y -> a <= (f x - f y) / (x - y) <= b.

Lemma slope_constraint : forall a b f x y, slope_restricted a b f ->
  0 <= (f x - f y - a * (x - y)) * (b * (x - y) - (f x - f y)).
Proof.
  intros a b f x y H. destruct (Req_dec x y) as [->|Hne].
  - replace (f y - f y - a * (y - y)) with 0 by ring. lra.
  - specialize (H x y Hne).
    set (d := (f x - f y) / (x - y)) in *.
    assert (Hd : f x - f y = d * (x - y)) by (unfold d; field; lra).
    rewrite Hd.
    replace ((d * (x - y) - a * (x - y)) * (b * (x - y) - d * (x - y)))
      with ((d - a) * (b - d) * ((x - y) * (x - y))) by ring.
    apply Rmult_le_pos; [apply Rmult_le_pos; lra|].
    pose proof (Rle_0_sqr (x - y)). unfold Rsqr in *. lra.
Qed.

(** max(p, q) = (p + q)/2 + |p - q|/2: max pooling as linear maps and the
    elementwise t |-> |t|/2 (liplt.rs, [max_pool_tournament]). *)
Lemma max_tournament : forall p q, Rmax p q = (p + q) / 2 + Rabs (p - q) / 2.
Proof.
  intros p q. unfold Rmax, Rabs.
  destruct (Rle_dec p q); destruct (Rcase_abs (p - q)); lra.
Qed.

(** t |-> |t|/2 has every difference quotient in [-1/2, 1/2]. *)
Lemma half_abs_slope_restricted :
  slope_restricted (- / 2) (/ 2) (fun t => Rabs t / 2).
Proof.
  intros x y Hne.
  set (q := (Rabs x / 2 - Rabs y / 2) / (x - y)).
  assert (Hq : q * (x - y) = Rabs x / 2 - Rabs y / 2)
    by (unfold q; field; lra).
  unfold Rabs in Hq. destruct (Rcase_abs x); destruct (Rcase_abs y);
    destruct (Rlt_or_le 0 (x - y)); split; nra.
Qed.

(** ** Quadratic forms *)

Definition quad (N : nat) (M : mat) (w : vec) : R := dot N w (matvec N M w).

Lemma quad_ext : forall N M M' w,
  (forall r c, (r < N)%nat -> (c < N)%nat -> M r c = M' r c) ->
  quad N M w = quad N M' w.
Proof.
  intros N M M' w H. unfold quad, dot, matvec.
  apply sum_ext; intros r Hr. f_equal. apply sum_ext; intros c Hc.
  rewrite H by assumption. reflexivity.
Qed.

Lemma scal_sum : forall N c f, c * sum N f = sum N (fun j => c * f j).
Proof. intros. rewrite sum_scal_l. reflexivity. Qed.

(** v^T (P Q^T) v = (P . v)(Q . v). *)
Lemma quad_rank_one : forall N P Q w,
  quad N (fun r c => P r * Q c) w = dot N P w * dot N Q w.
Proof.
  intros. unfold quad, dot, matvec.
  rewrite (sum_ext N _ (fun r => P r * w r * sum N (fun c => Q c * w c))).
  - rewrite sum_scal_r. reflexivity.
  - intros r Hr. rewrite scal_sum, scal_sum. apply sum_ext; intros; ring.
Qed.

Lemma quad_plus : forall N A B w,
  quad N (fun r c => A r c + B r c) w = quad N A w + quad N B w.
Proof.
  intros. unfold quad, dot, matvec. rewrite <- sum_plus.
  apply sum_ext; intros r Hr.
  rewrite (sum_ext N (fun c => (A r c + B r c) * w c)
                     (fun c => A r c * w c + B r c * w c)) by (intros; ring).
  rewrite sum_plus. ring.
Qed.

Lemma quad_scale : forall N k A w,
  quad N (fun r c => k * A r c) w = k * quad N A w.
Proof.
  intros. unfold quad, dot, matvec. rewrite scal_sum.
  apply sum_ext; intros r Hr.
  rewrite (sum_ext N (fun c => k * A r c * w c) (fun c => k * (A r c * w c)))
    by (intros; ring).
  rewrite <- scal_sum. ring.
Qed.

Lemma quad_sum : forall N H (F : nat -> mat) w,
  quad N (fun r c => sum H (fun i => F i r c)) w = sum H (fun i => quad N (F i) w).
Proof.
  intros N H F w. induction H as [|H IH]; simpl.
  - unfold quad, dot, matvec.
    rewrite (sum_ext N _ (fun _ => 0)); [apply sum_zero|].
    intros r Hr. rewrite (sum_ext N _ (fun _ => 0)) by (intros; ring).
    rewrite sum_zero. ring.
  - rewrite (quad_plus N (fun r c => sum H (fun i => F i r c)) (F H)). rewrite IH.
    reflexivity.
Qed.

(** ** The segment matrix *)

(** The j-th unit vector. *)
Definition unit (j : nat) : vec := fun r => if Nat.eqb j r then 1 else 0.

Lemma dot_unit : forall N j w, (j < N)%nat -> dot N (unit j) w = w j.
Proof.
  intros N j w Hj. unfold dot, unit.
  rewrite (sum_single N _ j Hj).
  - rewrite Nat.eqb_refl. ring.
  - intros k Hk Hne. destruct (Nat.eqb_spec j k); [lia|ring].
Qed.

(** M of the module comment: N variables, the first n the input, m
    outputs (rows of O), H neurons (rows of L), neuron i writing variable
    e i. *)
Definition seg_matrix (n m H : nat) (O L : mat) (e : nat -> nat)
    (a b t : nat -> R) (rho : R) : mat :=
  fun r c =>
    sum m (fun k => O k r * O k c)
    + - rho * sum n (fun j => unit j r * unit j c)
    + sum H (fun i => t i *
        ((a i + b i) * (unit (e i) r * L i c + L i r * unit (e i) c)
         + - 2 * (unit (e i) r * unit (e i) c)
         + - 2 * (a i * b i) * (L i r * L i c))).

(** Its quadratic form, expanded: |O v|^2 - rho |v_0..n|^2 + sum of the
    neurons' constraints. *)
Lemma seg_matrix_quad : forall N n m H O L e a b t rho v,
  (n <= N)%nat -> (forall i, (i < H)%nat -> (e i < N)%nat) ->
  quad N (seg_matrix n m H O L e a b t rho) v =
    dot m (matvec N O v) (matvec N O v) - rho * dot n v v
    + sum H (fun i => 2 * t i *
        ((v (e i) - a i * matvec N L v i) * (b i * matvec N L v i - v (e i)))).
Proof.
  intros N n m H O L e a b t rho v Hn He. unfold seg_matrix.
  rewrite quad_plus, quad_plus, quad_scale, !quad_sum.
  assert (HO : sum m (fun k => quad N (fun r c => O k r * O k c) v)
               = dot m (matvec N O v) (matvec N O v)).
  { unfold dot. apply sum_ext; intros k Hk. rewrite quad_rank_one.
    reflexivity. }
  assert (HX : sum n (fun j => quad N (fun r c => unit j r * unit j c) v) = dot n v v).
  { unfold dot. apply sum_ext; intros j Hj. rewrite quad_rank_one.
    rewrite dot_unit by lia. reflexivity. }
  rewrite HO, HX. f_equal; [ring|].
  apply sum_ext; intros i Hi.
  rewrite quad_scale, quad_plus, quad_plus, quad_scale, quad_scale, quad_scale.
  rewrite (quad_plus N (fun r c => unit (e i) r * L i c) (fun r c => L i r * unit (e i) c)).
  rewrite !quad_rank_one. rewrite dot_unit by (apply He; exact Hi).
  change (dot N (L i) v) with (matvec N L v i). ring.
Qed.

(** ** The theorem *)

(** If v^T M v <= 0 for every v, then for any two evaluations w, w' of
    the segment (neuron i: w (e i) = phi_i((L w)_i + c_i), phi_i with
    slopes in [a_i, b_i]) the outputs satisfy
    |O w - O w'|^2 <= rho |x - x'|^2 (x the first n variables). *)
Theorem segment_certificate_sq :
  forall N n m H O L e a b t rho (phi : nat -> R -> R) (cst : nat -> R) w w',
  (n <= N)%nat -> (forall i, (i < H)%nat -> (e i < N)%nat) ->
  (forall i, (i < H)%nat -> 0 <= t i) ->
  (forall i, (i < H)%nat -> slope_restricted (a i) (b i) (phi i)) ->
  (forall v, quad N (seg_matrix n m H O L e a b t rho) v <= 0) ->
  (forall i, (i < H)%nat -> w (e i) = phi i (matvec N L w i + cst i)) ->
  (forall i, (i < H)%nat -> w' (e i) = phi i (matvec N L w' i + cst i)) ->
  dot m (vsub (matvec N O w) (matvec N O w')) (vsub (matvec N O w) (matvec N O w'))
    <= rho * dot n (vsub w w') (vsub w w').
Proof.
  intros N n m H O L e a b t rho phi cst w w' Hn He Ht Hs HM Hw Hw'.
  set (v := vsub w w').
  specialize (HM v). rewrite seg_matrix_quad in HM by assumption.
  assert (Hc : 0 <= sum H (fun i => 2 * t i *
      ((v (e i) - a i * matvec N L v i) * (b i * matvec N L v i - v (e i))))).
  { apply sum_nonneg; intros i Hi.
    apply Rmult_le_pos; [pose proof (Ht i Hi); lra|].
    unfold v. rewrite matvec_sub. unfold vsub. rewrite (Hw i Hi), (Hw' i Hi).
    pose proof (slope_constraint (a i) (b i) (phi i)
                  (matvec N L w i + cst i) (matvec N L w' i + cst i) (Hs i Hi)) as P.
    replace (matvec N L w i + cst i - (matvec N L w' i + cst i))
      with (matvec N L w i - matvec N L w' i) in P by ring.
    exact P. }
  assert (Hy : dot m (matvec N O v) (matvec N O v)
               = dot m (vsub (matvec N O w) (matvec N O w'))
                       (vsub (matvec N O w) (matvec N O w'))).
  { unfold dot. apply sum_ext; intros k Hk. unfold v. rewrite matvec_sub.
    reflexivity. }
  lra.
Qed.

(** The same with norms: Lip <= sqrt(rho), the bound segment.rs reports
    (rounded upward). *)
Theorem segment_certificate :
  forall N n m H O L e a b t rho (phi : nat -> R -> R) (cst : nat -> R) w w',
  (n <= N)%nat -> (forall i, (i < H)%nat -> (e i < N)%nat) ->
  (forall i, (i < H)%nat -> 0 <= t i) ->
  (forall i, (i < H)%nat -> slope_restricted (a i) (b i) (phi i)) ->
  0 <= rho ->
  (forall v, quad N (seg_matrix n m H O L e a b t rho) v <= 0) ->
  (forall i, (i < H)%nat -> w (e i) = phi i (matvec N L w i + cst i)) ->
  (forall i, (i < H)%nat -> w' (e i) = phi i (matvec N L w' i + cst i)) ->
  norm m (vsub (matvec N O w) (matvec N O w')) <= sqrt rho * norm n (vsub w w').
Proof.
  intros N n m H O L e a b t rho phi cst w w' Hn He Ht Hs Hrho HM Hw Hw'.
  pose proof (segment_certificate_sq N n m H O L e a b t rho phi cst w w'
                Hn He Ht Hs HM Hw Hw') as Hsq.
  unfold norm. rewrite <- sqrt_mult by (try assumption; apply dot_self_nonneg).
  apply sqrt_le_1; [apply dot_self_nonneg| |exact Hsq].
  apply Rmult_le_pos; [assumption|apply dot_self_nonneg].
Qed.
