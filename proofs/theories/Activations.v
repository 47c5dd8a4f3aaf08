(** * Lipschitz constants of activation functions and of max-pooling.

    ReLU: 1.  LeakyReLU(alpha): max(1, |alpha|).  tanh: 1.  sigmoid: 1/4
    (derivative s(1-s) <= 1/4 and the mean value theorem).  Max-pooling
    over windows in which every input lies in at most m windows:
    sqrt(m) in l2, and sqrt(m) is attained.  All proofs are ours and use
    only the standard library's real analysis. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Lipschitz.
Open Scope R_scope.

(** ** ReLU *)
Definition relu (a : R) : R := Rmax a 0.

Lemma relu_scalar_lipschitz : forall a b, Rabs (relu a - relu b) <= 1 * Rabs (a - b).
Proof.
  intros a b. unfold relu, Rmax.
  destruct (Rle_dec a 0); destruct (Rle_dec b 0); unfold Rabs;
    repeat destruct Rcase_abs; lra.
Qed.

Theorem relu_lipschitz : forall n, lipschitz n n 1 (fun x i => relu (x i)).
Proof. intro n. apply lipschitz_componentwise; [lra|apply relu_scalar_lipschitz]. Qed.

(** ** Leaky ReLU *)
Definition leaky_relu (alpha a : R) : R := if Rle_dec 0 a then a else alpha * a.

Lemma leaky_relu_scalar_lipschitz : forall alpha a b,
  Rabs (leaky_relu alpha a - leaky_relu alpha b) <= Rmax 1 (Rabs alpha) * Rabs (a - b).
Proof.
  intros alpha a b.
  pose proof (Rmax_l 1 (Rabs alpha)) as M1. pose proof (Rmax_r 1 (Rabs alpha)) as M2.
  set (M := Rmax 1 (Rabs alpha)) in *.
  assert (Hmix : forall a b, 0 <= a -> b < 0 -> Rabs (a - alpha * b) <= M * Rabs (a - b)).
  { intros a' b' Ha Hb.
    eapply Rle_trans; [apply Rabs_triang|]. rewrite Rabs_Ropp, Rabs_mult.
    rewrite (Rabs_right a') by lra. rewrite (Rabs_left b') by lra.
    rewrite (Rabs_right (a' - b')) by lra.
    assert (a' <= M * a') by nra.
    assert (Rabs alpha * - b' <= M * - b') by (apply Rmult_le_compat_r; lra).
    lra. }
  unfold leaky_relu.
  destruct (Rle_dec 0 a) as [Ha|Ha]; destruct (Rle_dec 0 b) as [Hb|Hb].
  - assert (0 <= Rabs (a - b)) by apply Rabs_pos. nra.
  - apply Hmix; lra.
  - rewrite <- Rabs_Ropp, Rabs_minus_sym.
    replace (- (alpha * a - b)) with (b - alpha * a) by ring.
    apply Hmix; lra.
  - replace (alpha * a - alpha * b) with (alpha * (a - b)) by ring.
    rewrite Rabs_mult. apply Rmult_le_compat_r; [apply Rabs_pos|exact M2].
Qed.

Theorem leaky_relu_lipschitz : forall n alpha,
  lipschitz n n (Rmax 1 (Rabs alpha)) (fun x i => leaky_relu alpha (x i)).
Proof.
  intros n alpha. apply lipschitz_componentwise.
  - eapply Rle_trans; [|apply Rmax_l]; lra.
  - apply leaky_relu_scalar_lipschitz.
Qed.

(** ** Sigmoid *)
Definition sigmoid (a : R) : R := 1 / (1 + exp (- a)).

Definition sigmoid' (a : R) : R := exp (- a) / Rsqr (1 + exp (- a)).

Lemma sigmoid_derivative : forall a, derivable_pt_lim sigmoid a (sigmoid' a).
Proof.
  intro a.
  pose (g := comp exp (opp_fct id)).
  pose (f2 := plus_fct (fct_cte 1) g).
  assert (Dopp : derivable_pt_lim (opp_fct id) a (- 1))
    by (apply derivable_pt_lim_opp, derivable_pt_lim_id).
  assert (Dg : derivable_pt_lim g a (exp (opp_fct id a) * - 1))
    by (apply derivable_pt_lim_comp; [exact Dopp|apply derivable_pt_lim_exp]).
  assert (Df2 : derivable_pt_lim f2 a (0 + exp (opp_fct id a) * - 1))
    by (apply derivable_pt_lim_plus; [apply derivable_pt_lim_const|exact Dg]).
  assert (Nz : f2 a <> 0).
  { unfold f2, plus_fct, fct_cte, g, comp. pose proof (exp_pos (opp_fct id a)). lra. }
  pose proof (derivable_pt_lim_div (fct_cte 1) f2 a 0 _ (derivable_pt_lim_const 1 a) Df2 Nz) as D.
  replace (sigmoid' a) with ((0 * f2 a - (0 + exp (opp_fct id a) * -1) * fct_cte 1 a) / Rsqr (f2 a)).
  - exact D.
  - unfold sigmoid', f2, plus_fct, fct_cte, g, comp, opp_fct, id. field.
    unfold Rsqr. pose proof (exp_pos (- a)). nra.
Qed.

Lemma sigmoid'_bound : forall a, 0 <= sigmoid' a <= / 4.
Proof.
  intro a. unfold sigmoid', Rsqr. pose proof (exp_pos (- a)) as He.
  set (y := exp (- a)) in *.
  assert (P : 0 < (1 + y) * (1 + y)) by nra.
  split.
  - apply Rmult_le_pos; [lra|apply Rlt_le, Rinv_0_lt_compat; exact P].
  - apply (Rmult_le_reg_r ((1 + y) * (1 + y))); [exact P|].
    unfold Rdiv. rewrite Rmult_assoc, Rinv_l by lra.
    assert (0 <= (1 - y) * (1 - y)) by apply Rle_0_sqr. lra.
Qed.

Lemma sigmoid_scalar_lipschitz : forall a b, Rabs (sigmoid a - sigmoid b) <= / 4 * Rabs (a - b).
Proof.
  assert (Ord : forall a b, a < b -> Rabs (sigmoid b - sigmoid a) <= / 4 * Rabs (b - a)).
  { intros a b Hab.
    destruct (MVT_cor2 sigmoid sigmoid' a b Hab (fun c _ => sigmoid_derivative c))
      as (c & Hc & _).
    rewrite Hc, Rabs_mult. pose proof (sigmoid'_bound c).
    rewrite (Rabs_right (sigmoid' c)) by lra.
    apply Rmult_le_compat_r; [apply Rabs_pos|lra]. }
  intros a b. destruct (Rtotal_order a b) as [H|[H|H]].
  - rewrite Rabs_minus_sym, (Rabs_minus_sym a). apply Ord; exact H.
  - rewrite H. unfold Rminus. rewrite !Rplus_opp_r, Rabs_R0. lra.
  - apply Ord; exact H.
Qed.

Theorem sigmoid_lipschitz : forall n, lipschitz n n (/ 4) (fun x i => sigmoid (x i)).
Proof. intro n. apply lipschitz_componentwise; [lra|apply sigmoid_scalar_lipschitz]. Qed.

(** ** tanh = 2 sigmoid(2 x) - 1 *)
Lemma tanh_sigmoid : forall a, tanh a = 2 * sigmoid (2 * a) - 1.
Proof.
  intro a. unfold tanh, sinh, cosh, sigmoid.
  rewrite !exp_Ropp. replace (2 * a) with (a + a) by ring. rewrite exp_plus.
  pose proof (exp_pos a). field. split; nra.
Qed.

Lemma tanh_scalar_lipschitz : forall a b, Rabs (tanh a - tanh b) <= 1 * Rabs (a - b).
Proof.
  intros a b. rewrite !tanh_sigmoid.
  replace (2 * sigmoid (2 * a) - 1 - (2 * sigmoid (2 * b) - 1))
    with (2 * (sigmoid (2 * a) - sigmoid (2 * b))) by ring.
  rewrite Rabs_mult, (Rabs_right 2) by lra.
  pose proof (sigmoid_scalar_lipschitz (2 * a) (2 * b)) as H.
  replace (2 * a - 2 * b) with (2 * (a - b)) in H by ring.
  rewrite Rabs_mult, (Rabs_right 2) in H by lra. lra.
Qed.

Theorem tanh_lipschitz : forall n, lipschitz n n 1 (fun x i => tanh (x i)).
Proof. intro n. apply lipschitz_componentwise; [lra|apply tanh_scalar_lipschitz]. Qed.

(** ** Max-pooling *)

(** [v] is the maximum of [x] over the window [w] (a set of indices < n). *)
Definition is_window_max (n : nat) (w : nat -> bool) (x : vec) (v : R) : Prop :=
  (exists i, (i < n)%nat /\ w i = true /\ v = x i) /\
  (forall i, (i < n)%nat -> w i = true -> x i <= v).

(** Number of the p windows [inw k] (k < p) that contain input i. *)
Definition coverage (p : nat) (inw : nat -> nat -> bool) (i : nat) : R :=
  sum p (fun k => if inw k i then 1 else 0).

Definition ind (b : bool) : R := if b then 1 else 0.

Lemma window_diff_sq : forall n w x x' v v',
  is_window_max n w x v -> is_window_max n w x' v' ->
  (v - v') * (v - v') <= sum n (fun i => ind (w i) * ((x i - x' i) * (x i - x' i))).
Proof.
  intros n w x x' v v' [(i & Hi & Wi & ->) Hv] [(j & Hj & Wj & ->) Hv'].
  assert (Nn : forall l, (l < n)%nat -> 0 <= ind (w l) * ((x l - x' l) * (x l - x' l))).
  { intros l _. unfold ind. destruct (w l); [rewrite Rmult_1_l|rewrite Rmult_0_l; lra].
    apply Rle_0_sqr. }
  pose proof (Hv' i Hi Wi). pose proof (Hv j Hj Wj).
  destruct (Rle_or_lt 0 (x i - x' j)) as [P|N].
  - eapply Rle_trans; [|apply (sum_term_le n _ i Nn Hi)].
    unfold ind; rewrite Wi, Rmult_1_l.
    apply Rmult_le_compat; lra.
  - eapply Rle_trans; [|apply (sum_term_le n _ j Nn Hj)].
    unfold ind; rewrite Wj, Rmult_1_l. nra.
Qed.

(** Relational form: any outputs that are the window maxima. *)
Lemma maxpool_bound : forall n p (inw : nat -> nat -> bool) m x x' y y',
  0 <= m ->
  (forall i, (i < n)%nat -> coverage p inw i <= m) ->
  (forall k, (k < p)%nat -> is_window_max n (inw k) x (y k)) ->
  (forall k, (k < p)%nat -> is_window_max n (inw k) x' (y' k)) ->
  norm p (vsub y y') <= sqrt m * norm n (vsub x x').
Proof.
  intros n p inw m x x' y y' Hm Hcov Hy Hy'.
  apply norm_le_of_sq; [apply sqrt_pos|]. rewrite sqrt_sqrt by exact Hm.
  unfold dot, vsub.
  eapply Rle_trans.
  { apply sum_le. intros k Hk. apply (window_diff_sq n (inw k)); auto. }
  rewrite sum_swap. rewrite <- sum_scal_l. apply sum_le. intros i Hi.
  rewrite sum_scal_r.
  apply Rmult_le_compat_r; [apply Rle_0_sqr|].
  apply Hcov; exact Hi.
Qed.

(** [maxpool_weighted]: the squared output change of a max-pool is at most
    the input's squared changes weighted by their coverage,
    sum_k (y_k - y'_k)^2 <= sum_i coverage(i) (x_i - x'_i)^2. Used with
    per-position coverage (not only its maximum) to move the pool's factor
    onto the layers before it (lipcert's src/network/pool_group.rs). *)
Lemma maxpool_weighted : forall n p (inw : nat -> nat -> bool) x x' y y',
  (forall k, (k < p)%nat -> is_window_max n (inw k) x (y k)) ->
  (forall k, (k < p)%nat -> is_window_max n (inw k) x' (y' k)) ->
  dot p (vsub y y') (vsub y y')
    <= sum n (fun i => coverage p inw i * ((x i - x' i) * (x i - x' i))).
Proof.
  intros n p inw x x' y y' Hy Hy'.
  unfold dot, vsub.
  eapply Rle_trans.
  { apply sum_le. intros k Hk. apply (window_diff_sq n (inw k)); auto. }
  rewrite sum_swap. apply sum_le. intros i Hi.
  rewrite sum_scal_r. unfold coverage, ind. lra.
Qed.

(** [weighted_componentwise]: if every coordinate changes by at most l_i
    times its input's change, then for weights c_i >= 0,
    sum_i c_i (a_i - a'_i)^2 <= sum_i (c_i l_i^2) (z_i - z'_i)^2: a
    per-coordinate weight passes through an elementwise map as a diagonal
    scaling of its input (the activation between a convolution and a
    max-pool in pool_group.rs). *)
Lemma weighted_componentwise : forall n (c l : vec) (a a' z z' : vec),
  (forall i, (i < n)%nat -> 0 <= c i) ->
  (forall i, (i < n)%nat -> Rabs (a i - a' i) <= l i * Rabs (z i - z' i)) ->
  sum n (fun i => c i * ((a i - a' i) * (a i - a' i)))
    <= sum n (fun i => c i * (l i * l i) * ((z i - z' i) * (z i - z' i))).
Proof.
  intros n c l a a' z z' Hc Hl. apply sum_le. intros i Hi.
  specialize (Hc i Hi). specialize (Hl i Hi).
  set (u := a i - a' i). set (v := z i - z' i). fold u v in Hl.
  assert (Eu : u * u = Rabs u * Rabs u).
  { rewrite <- Rabs_mult, Rabs_right; [ring | apply Rle_ge, Rle_0_sqr]. }
  assert (Ev : v * v = Rabs v * Rabs v).
  { rewrite <- Rabs_mult, Rabs_right; [ring | apply Rle_ge, Rle_0_sqr]. }
  pose proof (Rabs_pos u). pose proof (Rabs_pos v).
  assert (Sq : Rabs u * Rabs u <= (l i * Rabs v) * (l i * Rabs v))
    by (apply Rmult_le_compat; lra).
  rewrite Eu, Ev.
  replace (c i * (l i * l i) * (Rabs v * Rabs v))
    with (c i * ((l i * Rabs v) * (l i * Rabs v))) by ring.
  apply Rmult_le_compat_l; lra.
Qed.

(** [maxpool_lipschitz]: a max-pool over p windows of an input of size n in
    which every input lies in at most m windows is sqrt(m)-Lipschitz in l2. *)
Theorem maxpool_lipschitz : forall n p (inw : nat -> nat -> bool) (m : nat) (f : vec -> vec),
  (forall i, (i < n)%nat -> coverage p inw i <= INR m) ->
  (forall x k, (k < p)%nat -> is_window_max n (inw k) x (f x k)) ->
  lipschitz n p (sqrt (INR m)) f.
Proof.
  intros n p inw m f Hcov Hf x x'.
  apply (maxpool_bound n p inw); auto using pos_INR.
Qed.

Definition basis (i0 : nat) : vec := fun i => if Nat.eq_dec i i0 then 1 else 0.

(** [maxpool_attained]: if input i0 lies in exactly m windows, the pair
    (0, e_i0) attains the constant sqrt(m). *)
Theorem maxpool_attained : forall n p (inw : nat -> nat -> bool) (m : nat) (f : vec -> vec) i0,
  (i0 < n)%nat -> coverage p inw i0 = INR m ->
  (forall x k, (k < p)%nat -> is_window_max n (inw k) x (f x k)) ->
  let x := (fun _ => 0) : vec in let x' := basis i0 in
  norm n (vsub x' x) = 1 /\ norm p (vsub (f x') (f x)) = sqrt (INR m) * norm n (vsub x' x).
Proof.
  intros n p inw m f i0 Hi0 Hcov Hf x x'.
  assert (N1 : norm n (vsub x' x) = 1).
  { unfold norm, dot. rewrite (sum_single n _ i0 Hi0).
    - unfold vsub, x', x, basis. destruct (Nat.eq_dec i0 i0); [|congruence].
      replace ((1 - 0) * (1 - 0)) with 1 by ring. apply sqrt_1.
    - intros j _ Hj. unfold vsub, x', x, basis. destruct (Nat.eq_dec j i0); [congruence|ring]. }
  split; [exact N1|]. rewrite N1, Rmult_1_r.
  unfold norm. f_equal. unfold dot, coverage in *. rewrite <- Hcov.
  apply sum_ext. intros k Hk.
  destruct (Hf x k Hk) as [(i & Hi & Wi & E0) _].
  destruct (Hf x' k Hk) as [(j & Hj & Wj & E1) Hmax].
  unfold vsub. rewrite E0, E1. unfold x, x', basis.
  destruct (inw k i0) eqn:W.
  - assert (Hge : 1 <= f x' k).
    { specialize (Hmax i0 Hi0 W). unfold x', basis in Hmax.
      destruct (Nat.eq_dec i0 i0); [exact Hmax|congruence]. }
    rewrite E1 in Hge. unfold x', basis in Hge.
    destruct (Nat.eq_dec j i0); [ring|lra].
  - destruct (Nat.eq_dec j i0); [congruence|ring].
Qed.
