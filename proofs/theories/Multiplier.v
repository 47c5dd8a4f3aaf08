(** * The LipSDP-Neuron segment certificate (src/network/bounds/segment.rs)
      and the sigma-based certificates of src/network/bounds/multiplier.rs.

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

    The sigma-based forms of src/network/bounds/multiplier.rs (Theorems 1
    and 2 of its module docs; Schur complements of the same LMI for one
    hidden layer): with T = diag(d_i^2), P = B T^(-1/2), Q = A^T T^(1/2),
    [two_layer_sigma_certificate]: phi_i with slopes in [0, 1] and
    |P v|^2 + |Q v|^2 <= s^2 |v|^2 for all v => x |-> B phi(A x + c) is
    (s^2/2)-Lipschitz; [residual_sigma_certificate]: kappa > 0 and
    |P v|^2 + kappa^2 |(P + Q) v|^2 <= 2 |v|^2 => x |-> x + B phi(A x + c)
    is sqrt(1 + 1/kappa^2)-Lipschitz.  Slopes in [0, b]:
    [two_layer_sigma_certificate_slope] (bound b s^2/2) and
    [residual_sigma_certificate_slope] (certificate for b B).

    Not proved here: that segment.rs's walk builds L, O and e such that the
    network's values satisfy the hypotheses of the theorem (that is the
    module's "Setting"), and the floating-point certification of M's
    negative definiteness (Cholesky.v, [rump_cholesky_posdef_rust], with
    the error bounds of the module docs), nor of sigma_max([P; Q]) in
    multiplier.rs (module docs). *)
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

(** ** The sigma-based two-layer and residual certificates

    src/network/bounds/multiplier.rs, Theorems 1 and 2 of its module docs.
    A two-layer piece f(x) = B phi(A x + c) (A : h x n, B : m x h, phi_i
    with slopes in [0, 1]); with T = diag(t_i), t_i = d_i^2 > 0, the Rust
    code certifies s >= sigma_max([P; Q]) for P = B T^(-1/2) (P_ij =
    B_ij / d_j) and Q = A^T T^(1/2) (Q_ij = A_ji d_j), stated here as
    |P v|^2 + |Q v|^2 <= s^2 |v|^2 for every v.  With
    v_i = d_i (phi_i(z_i) - phi_i(z'_i)) the slope constraint gives
    |v|^2 <= (Q v) . (x - x') ([sigma_neuron_bound]) and
    f(x) - f(x') = P v ([two_layer_diff]). *)

Definition two_layer (n h : nat) (A B : mat) (phi : nat -> R -> R) (c : vec)
    (x : vec) : vec :=
  matvec h B (fun i => phi i (matvec n A x i + c i)).

Definition residual_block (n h : nat) (A B : mat) (phi : nat -> R -> R) (c : vec)
    (x : vec) : vec :=
  vadd x (two_layer n h A B phi c x).

Lemma pow2_as_mult : forall r, r ^ 2 = r * r.
Proof. intros; ring. Qed.

(** Slopes in [0, bt]: |v|^2 = sum_i t_i du_i^2
    <= bt sum_i t_i du_i dz_i = bt (Q v) . dx. *)
Lemma sigma_neuron_bound : forall n h A d Q bt (phi : nat -> R -> R) c x x' v,
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  (forall i, (i < h)%nat -> slope_restricted 0 bt (phi i)) ->
  (forall i, (i < h)%nat ->
     v i = d i * (phi i (matvec n A x i + c i) - phi i (matvec n A x' i + c i))) ->
  dot h v v <= bt * dot n (matvec h Q v) (vsub x x').
Proof.
  intros n h A d Q bt phi c x x' v HQ Hs Hv.
  rewrite adjoint. unfold dot. rewrite <- sum_scal_l.
  apply sum_le; intros j Hj.
  assert (HT : matvec n (transpose Q) (vsub x x') j
               = d j * (matvec n A x j - matvec n A x' j)).
  { rewrite <- matvec_sub. unfold matvec, transpose.
    rewrite <- sum_scal_l. apply sum_ext; intros k Hk.
    rewrite HQ by assumption. ring. }
  rewrite HT, (Hv j Hj).
  pose proof (slope_constraint 0 bt (phi j)
                (matvec n A x j + c j) (matvec n A x' j + c j) (Hs j Hj)) as P.
  set (du := phi j (matvec n A x j + c j) - phi j (matvec n A x' j + c j)) in *.
  replace (matvec n A x j + c j - (matvec n A x' j + c j))
    with (matvec n A x j - matvec n A x' j) in P by ring.
  set (dz := matvec n A x j - matvec n A x' j) in *.
  replace (bt * (d j * du * (d j * dz)) - d j * du * (d j * du))
    with ((d j * d j) * ((du - 0 * dz) * (bt * dz - du))) by ring.
  cut (0 <= (d j * d j) * ((du - 0 * dz) * (bt * dz - du))); [lra|].
  apply Rmult_le_pos; [apply Rle_0_sqr|exact P].
Qed.

(** f(x) - f(x') = B du = P v (rows i < m). *)
Lemma two_layer_diff : forall n h m A B d P (phi : nat -> R -> R) c x x' v,
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < m)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i, (i < h)%nat ->
     v i = d i * (phi i (matvec n A x i + c i) - phi i (matvec n A x' i + c i))) ->
  forall i, (i < m)%nat ->
  vsub (two_layer n h A B phi c x) (two_layer n h A B phi c x') i = matvec h P v i.
Proof.
  intros n h m A B d P phi c x x' v Hd HP Hv i Hi.
  unfold vsub, two_layer, matvec. rewrite <- sum_minus.
  apply sum_ext; intros j Hj. rewrite HP, Hv by assumption.
  unfold matvec. pose proof (Hd j Hj). field. lra.
Qed.

(** Theorem 1 for slopes in [0, bt]:
    |P v|^2 <= s^2 |v|^2 - |Q v|^2 <= s^2 bt |Q v| |dx| - |Q v|^2
    <= (bt s^2 / 2)^2 |dx|^2. *)
Theorem two_layer_sigma_certificate_slope :
  forall n h m A B d P Q s bt (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < m)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  0 <= s -> 0 <= bt ->
  (forall v, norm m (matvec h P v) ^ 2 + norm n (matvec h Q v) ^ 2
             <= s ^ 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 bt (phi i)) ->
  norm m (vsub (two_layer n h A B phi c x) (two_layer n h A B phi c x'))
    <= bt * (s * s / 2) * norm n (vsub x x').
Proof.
  intros n h m A B d P Q s bt phi c x x' Hd HP HQ Hs0 Hb Hs Hphi.
  set (v := fun i => d i * (phi i (matvec n A x i + c i)
                            - phi i (matvec n A x' i + c i))).
  pose proof (sigma_neuron_bound n h A d Q bt phi c x x' v HQ Hphi
                (fun i _ => eq_refl)) as K.
  specialize (Hs v). rewrite !pow2_as_mult, !norm_sq in Hs.
  assert (E : norm m (vsub (two_layer n h A B phi c x) (two_layer n h A B phi c x'))
              = norm m (matvec h P v))
    by (apply norm_ext; apply (two_layer_diff n h m A B d P phi c x x' v Hd HP);
        intros; reflexivity).
  rewrite E. apply norm_le_of_sq;
    [apply Rmult_le_pos; [exact Hb|]; apply Rmult_le_pos; [apply Rle_0_sqr|lra]|].
  pose proof (cauchy_schwarz n (matvec h Q v) (vsub x x')) as C.
  pose proof (Rle_abs (dot n (matvec h Q v) (vsub x x'))).
  rewrite <- (norm_sq n (matvec h Q v)) in Hs.
  rewrite <- (norm_sq n (vsub x x')).
  set (a := norm n (vsub x x')) in *. set (b := norm n (matvec h Q v)) in *.
  set (X := dot m (matvec h P v) (matvec h P v)) in *.
  set (V := dot h v v) in *.
  set (S2 := s * s) in *.
  assert (HS2 : 0 <= S2) by (unfold S2; apply Rle_0_sqr).
  assert (HV : V <= bt * (b * a)).
  { eapply Rle_trans; [exact K|]. apply Rmult_le_compat_l; lra. }
  assert (H1 : X <= S2 * (bt * (b * a)) - b * b).
  { assert (S2 * V <= S2 * (bt * (b * a))) by (apply Rmult_le_compat_l; assumption).
    lra. }
  pose proof (Rle_0_sqr (b - bt * S2 * a / 2)). unfold Rsqr in *.
  nra.
Qed.

(** Theorem 1 (multiplier.rs): slopes in [0, 1] and
    sigma_max([P; Q]) <= s give Lip(f) <= s^2 / 2. *)
Theorem two_layer_sigma_certificate :
  forall n h m A B d P Q s (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < m)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  0 <= s ->
  (forall v, norm m (matvec h P v) ^ 2 + norm n (matvec h Q v) ^ 2
             <= s ^ 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 1 (phi i)) ->
  norm m (vsub (two_layer n h A B phi c x) (two_layer n h A B phi c x'))
    <= (s * s / 2) * norm n (vsub x x').
Proof.
  intros n h m A B d P Q s phi c x x' Hd HP HQ Hs0 Hs Hphi.
  rewrite <- (Rmult_1_l (s * s / 2)).
  exact (two_layer_sigma_certificate_slope n h m A B d P Q s 1 phi c x x'
           Hd HP HQ Hs0 Rle_0_1 Hs Hphi).
Qed.

(** Theorem 2 (multiplier.rs): for the residual block x + f(x) (m = n),
    kappa > 0 and sigma_max([P; kappa (P + Q)]) <= sqrt 2, i.e.
    |P v|^2 + kappa^2 |(P + Q) v|^2 <= 2 |v|^2, give
    Lip <= sqrt(1 + 1/kappa^2):
    |dx + P v|^2 <= |dx|^2 + 2 dx.(P v) + |P v|^2 + 2 ((Q v).dx - |v|^2)
    <= |dx|^2 + 2 dx.((P + Q) v) - kappa^2 |(P + Q) v|^2
    <= (1 + 1/kappa^2) |dx|^2. *)
Theorem residual_sigma_certificate :
  forall n h A B d P Q kappa (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  0 < kappa ->
  (forall v, norm n (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => P i j + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 1 (phi i)) ->
  norm n (vsub (residual_block n h A B phi c x) (residual_block n h A B phi c x'))
    <= sqrt (1 + 1 / kappa ^ 2) * norm n (vsub x x').
Proof.
  intros n h A B d P Q kappa phi c x x' Hd HP HQ Hk Hs Hphi.
  set (v := fun i => d i * (phi i (matvec n A x i + c i)
                            - phi i (matvec n A x' i + c i))).
  pose proof (sigma_neuron_bound n h A d Q 1 phi c x x' v HQ Hphi
                (fun i _ => eq_refl)) as K.
  rewrite Rmult_1_l in K.
  specialize (Hs v). rewrite !pow2_as_mult, !norm_sq in Hs.
  set (dx := vsub x x') in *.
  set (Pv := matvec h P v) in *. set (Qv := matvec h Q v) in *.
  set (w := matvec h (fun i j => P i j + Q i j) v) in *.
  assert (E : norm n (vsub (residual_block n h A B phi c x)
                           (residual_block n h A B phi c x'))
              = norm n (vadd dx Pv)).
  { apply norm_ext; intros i Hi.
    pose proof (two_layer_diff n h n A B d P phi c x x' v Hd HP
                  (fun i _ => eq_refl) i Hi) as D. fold Pv in D.
    unfold residual_block, vadd. rewrite <- D. unfold dx, vsub. ring. }
  assert (Ew : dot n dx w = dot n dx Pv + dot n dx Qv).
  { rewrite <- dot_add_r. unfold dot. apply sum_ext; intros i Hi.
    unfold w, Pv, Qv, vadd, matvec. rewrite <- sum_plus. f_equal.
    apply sum_ext; intros; ring. }
  assert (Hc : 0 < 1 + 1 / kappa ^ 2).
  { assert (0 < 1 / kappa ^ 2) by (apply Rdiv_lt_0_compat; [lra|apply pow_lt; lra]).
    lra. }
  rewrite E. apply norm_le_of_sq; [apply sqrt_pos|].
  rewrite sqrt_sqrt by lra.
  rewrite dot_add_l, !dot_add_r, (dot_comm n Pv dx).
  pose proof (cauchy_schwarz n dx w) as C.
  pose proof (Rle_abs (dot n dx w)).
  rewrite (dot_comm n Qv dx) in K.
  rewrite <- (norm_sq n w) in Hs. rewrite <- (norm_sq n dx).
  set (a := norm n dx) in *. set (b := norm n w) in *.
  pose proof (norm_nonneg n dx). pose proof (norm_nonneg n w).
  assert (Q2 : 2 * (a * b) - kappa ^ 2 * (b * b) <= 1 / kappa ^ 2 * (a * a)).
  { assert (0 <= (a / kappa - kappa * b) * (a / kappa - kappa * b)) by apply Rle_0_sqr.
    replace (1 / kappa ^ 2 * (a * a))
      with ((a / kappa - kappa * b) * (a / kappa - kappa * b)
            + (2 * (a * b) - kappa ^ 2 * (b * b))) by (field; lra).
    lra. }
  lra.
Qed.

(** Theorem 2 for slopes in [0, bt], bt > 0 ("Other slope intervals" in
    multiplier.rs): phi = bt phi~ with phi~ in [0, 1], so the certificate
    is the one of B' = bt B (P_ij = bt B_ij / d_j). *)
Theorem residual_sigma_certificate_slope :
  forall n h A B d P Q kappa bt (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> P i j = bt * B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  0 < kappa -> 0 < bt ->
  (forall v, norm n (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => P i j + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 bt (phi i)) ->
  norm n (vsub (residual_block n h A B phi c x) (residual_block n h A B phi c x'))
    <= sqrt (1 + 1 / kappa ^ 2) * norm n (vsub x x').
Proof.
  intros n h A B d P Q kappa bt phi c x x' Hd HP HQ Hk Hb Hs Hphi.
  assert (Hphi' : forall i, (i < h)%nat -> slope_restricted 0 1 (fun t => phi i t / bt)).
  { intros i Hi y z Hne. specialize (Hphi i Hi y z Hne).
    replace ((phi i y / bt - phi i z / bt) / (y - z))
      with ((phi i y - phi i z) / (y - z) / bt) by (field; lra).
    split; [apply Rmult_le_pos; [lra|left; apply Rinv_0_lt_compat; lra]|].
    apply (Rmult_le_reg_r bt); [lra|]. unfold Rdiv at 1.
    rewrite Rmult_assoc, Rinv_l by lra. lra. }
  pose proof (residual_sigma_certificate n h A (fun i j => bt * B i j) d P Q kappa
                (fun i t => phi i t / bt) c x x' Hd HP HQ Hk Hs Hphi') as R.
  eapply Rle_trans; [|exact R]. apply Req_le. apply norm_ext; intros i Hi.
  unfold vsub, residual_block, vadd, two_layer, matvec. f_equal; f_equal;
    apply sum_ext; intros j Hj; field; lra.
Qed.

(** ** Residual blocks with a linear shortcut

    Theorem 2 with the identity shortcut replaced by a linear map S
    (m x n): f(x) = S x + B phi(A x + c), A : h x n, B : m x h.  With
    M = S^T P + Q (n x h; [matmul m (transpose S) P] is S^T P), kappa > 0,
    sigma_max([P; kappa M]) <= sqrt 2, i.e.
    |P v|^2 + kappa^2 |M v|^2 <= 2 |v|^2 for all v, and s an operator-norm
    bound of S ([bounded m n S s]: |S y| <= s |y| for all y), f is
    sqrt(s^2 + 1/kappa^2)-Lipschitz:
    |S dx + P v|^2 = |S dx|^2 + 2 dx.(S^T P v) + |P v|^2
    <= |S dx|^2 + 2 dx.(M v) + |P v|^2 - 2 |v|^2    (2 ((Q v).dx - |v|^2) >= 0)
    <= s^2 |dx|^2 + 2 |dx| |M v| - kappa^2 |M v|^2
    <= (s^2 + 1/kappa^2) |dx|^2.
    With S the identity (m = n, s = 1), M = P + Q and this is
    [residual_sigma_certificate]. *)
Theorem residual_shortcut_sigma_certificate :
  forall n h m S A B d P Q s kappa (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < m)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  bounded m n S s ->
  0 < kappa ->
  (forall v, norm m (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => matmul m (transpose S) P i j
                                                        + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 1 (phi i)) ->
  norm m (vsub (vadd (matvec n S x) (two_layer n h A B phi c x))
               (vadd (matvec n S x') (two_layer n h A B phi c x')))
    <= sqrt (s ^ 2 + 1 / kappa ^ 2) * norm n (vsub x x').
Proof.
  intros n h m S A B d P Q s kappa phi c x x' Hd HP HQ HS Hk Hs Hphi.
  set (v := fun i => d i * (phi i (matvec n A x i + c i)
                            - phi i (matvec n A x' i + c i))).
  pose proof (sigma_neuron_bound n h A d Q 1 phi c x x' v HQ Hphi
                (fun i _ => eq_refl)) as K.
  rewrite Rmult_1_l in K.
  specialize (Hs v). rewrite !pow2_as_mult, !norm_sq in Hs.
  set (dx := vsub x x') in *.
  specialize (HS dx).
  set (Pv := matvec h P v) in *. set (Qv := matvec h Q v) in *.
  set (Sdx := matvec n S dx) in *.
  set (w := matvec h (fun i j => matmul m (transpose S) P i j + Q i j) v) in *.
  assert (E : norm m (vsub (vadd (matvec n S x) (two_layer n h A B phi c x))
                           (vadd (matvec n S x') (two_layer n h A B phi c x')))
              = norm m (vadd Sdx Pv)).
  { apply norm_ext; intros i Hi.
    pose proof (two_layer_diff n h m A B d P phi c x x' v Hd HP
                  (fun i _ => eq_refl) i Hi) as D. fold Pv in D.
    unfold vadd at 3. rewrite <- D. unfold Sdx, dx. rewrite matvec_sub.
    unfold vsub, vadd. ring. }
  assert (Wi : forall i, w i = vadd (matvec m (transpose S) Pv) Qv i).
  { intros i. unfold Pv, vadd. rewrite <- matvec_matmul.
    unfold w, Qv, matvec. rewrite <- sum_plus. apply sum_ext; intros; ring. }
  assert (Ew : dot n dx w = dot m Sdx Pv + dot n dx Qv).
  { unfold Sdx. rewrite adjoint, <- dot_add_r. unfold dot.
    apply sum_ext; intros i Hi. rewrite Wi. reflexivity. }
  assert (Hc : 0 <= s ^ 2 + 1 / kappa ^ 2).
  { assert (0 < 1 / kappa ^ 2) by (apply Rdiv_lt_0_compat; [lra|apply pow_lt; lra]).
    pose proof (pow2_ge_0 s). lra. }
  rewrite E. apply norm_le_of_sq; [apply sqrt_pos|].
  rewrite sqrt_sqrt by lra.
  rewrite dot_add_l, !dot_add_r, (dot_comm m Pv Sdx).
  pose proof (cauchy_schwarz n dx w) as C.
  pose proof (Rle_abs (dot n dx w)).
  rewrite (dot_comm n Qv dx) in K.
  assert (HS2 : dot m Sdx Sdx <= s ^ 2 * dot n dx dx).
  { rewrite <- (norm_sq m Sdx), <- (norm_sq n dx).
    pose proof (norm_nonneg m Sdx).
    replace (s ^ 2 * (norm n dx * norm n dx))
      with ((s * norm n dx) * (s * norm n dx)) by ring.
    apply Rmult_le_compat; assumption. }
  rewrite <- (norm_sq n w) in Hs. rewrite <- (norm_sq n dx) in HS2 |- *.
  set (a := norm n dx) in *. set (b := norm n w) in *.
  pose proof (norm_nonneg n dx). pose proof (norm_nonneg n w).
  assert (Q2 : 2 * (a * b) - kappa ^ 2 * (b * b) <= 1 / kappa ^ 2 * (a * a)).
  { assert (0 <= (a / kappa - kappa * b) * (a / kappa - kappa * b)) by apply Rle_0_sqr.
    replace (1 / kappa ^ 2 * (a * a))
      with ((a / kappa - kappa * b) * (a / kappa - kappa * b)
            + (2 * (a * b) - kappa ^ 2 * (b * b))) by (field; lra).
    lra. }
  lra.
Qed.

(** The same for slopes in [0, bt], bt > 0: phi = bt phi~ with phi~ in
    [0, 1], so the certificate is the one of B' = bt B
    (P_ij = bt B_ij / d_j, M = S^T P + Q with this P). *)
Theorem residual_shortcut_sigma_certificate_slope :
  forall n h m S A B d P Q s kappa bt (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < m)%nat -> (j < h)%nat -> P i j = bt * B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  bounded m n S s ->
  0 < kappa -> 0 < bt ->
  (forall v, norm m (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => matmul m (transpose S) P i j
                                                        + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 bt (phi i)) ->
  norm m (vsub (vadd (matvec n S x) (two_layer n h A B phi c x))
               (vadd (matvec n S x') (two_layer n h A B phi c x')))
    <= sqrt (s ^ 2 + 1 / kappa ^ 2) * norm n (vsub x x').
Proof.
  intros n h m S A B d P Q s kappa bt phi c x x' Hd HP HQ HS Hk Hb Hs Hphi.
  assert (Hphi' : forall i, (i < h)%nat -> slope_restricted 0 1 (fun t => phi i t / bt)).
  { intros i Hi y z Hne. specialize (Hphi i Hi y z Hne).
    replace ((phi i y / bt - phi i z / bt) / (y - z))
      with ((phi i y - phi i z) / (y - z) / bt) by (field; lra).
    split; [apply Rmult_le_pos; [lra|left; apply Rinv_0_lt_compat; lra]|].
    apply (Rmult_le_reg_r bt); [lra|]. unfold Rdiv at 1.
    rewrite Rmult_assoc, Rinv_l by lra. lra. }
  pose proof (residual_shortcut_sigma_certificate n h m S A (fun i j => bt * B i j)
                d P Q s kappa (fun i t => phi i t / bt) c x x'
                Hd HP HQ HS Hk Hs Hphi') as R.
  eapply Rle_trans; [|exact R]. apply Req_le. apply norm_ext; intros i Hi.
  unfold vsub, vadd, two_layer, matvec. f_equal; f_equal;
    apply sum_ext; intros j Hj; field; lra.
Qed.

(** Sanity check: with S the identity (s = 1) the shortcut theorem gives
    back [residual_sigma_certificate]'s bound. *)
Lemma residual_shortcut_sigma_certificate_id :
  forall n h A B d P Q kappa (phi : nat -> R -> R) (c : vec) x x',
  (forall i, (i < h)%nat -> 0 < d i) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> P i j = B i j / d j) ->
  (forall i j, (i < n)%nat -> (j < h)%nat -> Q i j = A j i * d j) ->
  0 < kappa ->
  (forall v, norm n (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => P i j + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2) ->
  (forall i, (i < h)%nat -> slope_restricted 0 1 (phi i)) ->
  norm n (vsub (residual_block n h A B phi c x) (residual_block n h A B phi c x'))
    <= sqrt (1 + 1 / kappa ^ 2) * norm n (vsub x x').
Proof.
  intros n h A B d P Q kappa phi c x x' Hd HP HQ Hk Hs Hphi.
  set (I := fun i j : nat => if Nat.eqb i j then 1 else 0).
  assert (HI : forall y i, (i < n)%nat -> matvec n I y i = y i).
  { intros y i Hi. unfold matvec, I. rewrite (sum_single n _ i Hi).
    - rewrite Nat.eqb_refl. ring.
    - intros k Hk' Hne. destruct (Nat.eqb_spec i k); [lia|ring]. }
  assert (HB : bounded n n I 1).
  { intros y. rewrite Rmult_1_l. apply Req_le. apply norm_ext. exact (HI y). }
  assert (HM : forall i j, (i < n)%nat ->
            matmul n (transpose I) P i j + Q i j = P i j + Q i j).
  { intros i j Hi. f_equal. unfold matmul, transpose, I.
    rewrite (sum_single n _ i Hi).
    - rewrite Nat.eqb_refl. ring.
    - intros k Hk' Hne. destruct (Nat.eqb_spec k i); [lia|ring]. }
  assert (Hs' : forall v, norm n (matvec h P v) ^ 2
             + kappa ^ 2 * norm n (matvec h (fun i j => matmul n (transpose I) P i j
                                                        + Q i j) v) ^ 2
             <= 2 * norm h v ^ 2).
  { intros v. rewrite (norm_ext n (matvec h (fun i j => matmul n (transpose I) P i j
                                                        + Q i j) v)
                                (matvec h (fun i j => P i j + Q i j) v)).
    - apply Hs.
    - intros i Hi. unfold matvec. apply sum_ext; intros j Hj.
      rewrite HM by exact Hi. reflexivity. }
  pose proof (residual_shortcut_sigma_certificate n h n I A B d P Q 1 kappa phi c x x'
                Hd HP HQ HB Hk Hs' Hphi) as R.
  replace (1 ^ 2) with 1 in R by ring.
  eapply Rle_trans; [|exact R]. apply Req_le. apply norm_ext; intros i Hi.
  unfold vsub, residual_block, vadd. rewrite !HI by exact Hi. reflexivity.
Qed.
