(** * Lipschitz constants of maps between Euclidean spaces R^n -> R^m.

    [lipschitz n m L f]: for all x, y, |f x - f y|_2 <= L |x - y|_2, where
    vectors are [Vec.vec] and only the first n (resp. m) entries count.
    These are the composition rules lipcert uses to bound the Lipschitz
    constant of a network by the product of certified layer bounds. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec.
Open Scope R_scope.

Definition lipschitz (n m : nat) (L : R) (f : vec -> vec) : Prop :=
  forall x y, norm m (vsub (f x) (f y)) <= L * norm n (vsub x y).

Lemma lipschitz_mono : forall n m L L' f, L <= L' -> lipschitz n m L f -> lipschitz n m L' f.
Proof.
  intros n m L L' f HL H x y. eapply Rle_trans; [apply H|].
  apply Rmult_le_compat_r; [apply norm_nonneg|exact HL].
Qed.

Lemma lipschitz_id : forall n, lipschitz n n 1 (fun x => x).
Proof. intros n x y; lra. Qed.

(** Lip(g o h) <= Lip(g) Lip(h). *)
Theorem lipschitz_comp : forall n p m Lg Lh (g h : vec -> vec),
  0 <= Lg -> lipschitz p m Lg g -> lipschitz n p Lh h ->
  lipschitz n m (Lg * Lh) (fun x => g (h x)).
Proof.
  intros n p m Lg Lh g h Hg Lip_g Lip_h x y.
  eapply Rle_trans; [apply Lip_g|].
  rewrite Rmult_assoc. apply Rmult_le_compat_l; [exact Hg|apply Lip_h].
Qed.

(** Lip(f + g) <= Lip(f) + Lip(g). *)
Theorem lipschitz_sum : forall n m Lf Lg (f g : vec -> vec),
  lipschitz n m Lf f -> lipschitz n m Lg g ->
  lipschitz n m (Lf + Lg) (fun x => vadd (f x) (g x)).
Proof.
  intros n m Lf Lg f g Hf Hg x y.
  rewrite (norm_ext m _ (vadd (vsub (f x) (f y)) (vsub (g x) (g y))))
    by (intros; unfold vsub, vadd; ring).
  eapply Rle_trans; [apply norm_triangle|].
  specialize (Hf x y); specialize (Hg x y). lra.
Qed.

(** A residual block x + f(x) is (1 + Lip f)-Lipschitz. *)
Theorem lipschitz_residual : forall n L (f : vec -> vec),
  lipschitz n n L f -> lipschitz n n (1 + L) (fun x => vadd x (f x)).
Proof.
  intros n L f Hf. apply (lipschitz_sum n n 1 L (fun x => x) f); [apply lipschitz_id|exact Hf].
Qed.

(** Lip(c f) = |c| Lip(f). *)
Theorem lipschitz_scale : forall n m L c (f : vec -> vec),
  lipschitz n m L f -> lipschitz n m (Rabs c * L) (fun x => vscale c (f x)).
Proof.
  intros n m L c f Hf x y.
  rewrite (norm_ext m _ (vscale c (vsub (f x) (f y)))) by (intros; unfold vsub, vscale; ring).
  rewrite norm_scale, Rmult_assoc.
  apply Rmult_le_compat_l; [apply Rabs_pos|apply Hf].
Qed.

(** x |-> W x + b is t-Lipschitz when sigma(W) <= t (W an m x n matrix). *)
Theorem lipschitz_affine : forall m n (W : mat) (b : vec) t,
  bounded m n W t -> lipschitz n m t (fun x => vadd (matvec n W x) b).
Proof.
  intros m n W b t HW x y.
  rewrite (norm_ext m _ (matvec n W (vsub x y))).
  - apply HW.
  - intros i Hi. rewrite matvec_sub. unfold vsub, vadd. ring.
Qed.

(** A scalar c-Lipschitz function applied entrywise is c-Lipschitz in l2. *)
Theorem lipschitz_componentwise : forall n (phi : R -> R) c,
  0 <= c -> (forall a b, Rabs (phi a - phi b) <= c * Rabs (a - b)) ->
  lipschitz n n c (fun x i => phi (x i)).
Proof.
  intros n phi c Hc Hphi x y.
  apply norm_le_of_sq; [exact Hc|].
  unfold dot, vsub. rewrite <- sum_scal_l. apply sum_le. intros i Hi.
  specialize (Hphi (x i) (y i)).
  set (d := phi (x i) - phi (y i)) in *. set (e := x i - y i) in *.
  assert (Sq : forall z, z * z = Rabs z * Rabs z).
  { intro z. rewrite <- Rabs_mult, Rabs_right; [reflexivity|apply Rle_ge, Rle_0_sqr]. }
  rewrite (Sq d), (Sq e).
  replace (c * c * (Rabs e * Rabs e)) with ((c * Rabs e) * (c * Rabs e)) by ring.
  apply Rmult_le_compat; try apply Rabs_pos; exact Hphi.
Qed.

(** Per-coordinate constants: if each coordinate map satisfies
    |phi_i a - phi_i b| <= L_i |a - b| (L_i >= 0), then
    |phi(x) - phi(y)|_2 <= |diag(L)(x - y)|_2. With x = A u + b and
    y = A v + b this is Lip(phi o (A . + b)) <= sigma(diag(L) A): the joint
    bound lipcert records for a convolution or dense layer followed by
    PReLU (L_i = max(1, |a_i|)). *)
Theorem componentwise_weighted : forall n (phi : nat -> R -> R) (L x y : vec),
  (forall i, (i < n)%nat -> 0 <= L i) ->
  (forall i a b, (i < n)%nat -> Rabs (phi i a - phi i b) <= L i * Rabs (a - b)) ->
  norm n (vsub (fun i => phi i (x i)) (fun i => phi i (y i)))
    <= norm n (fun i => L i * (x i - y i)).
Proof.
  intros n phi L x y HL Hphi.
  unfold norm. apply sqrt_le_1; [apply dot_self_nonneg|apply dot_self_nonneg|].
  unfold dot, vsub. apply sum_le. intros i Hi.
  specialize (Hphi i (x i) (y i) Hi). specialize (HL i Hi).
  set (d := phi i (x i) - phi i (y i)) in *. set (e := x i - y i) in *.
  assert (Sq : forall z, z * z = Rabs z * Rabs z).
  { intro z. rewrite <- Rabs_mult, Rabs_right; [reflexivity|apply Rle_ge, Rle_0_sqr]. }
  rewrite (Sq d).
  replace (L i * e * (L i * e)) with ((L i * Rabs e) * (L i * Rabs e)).
  - apply Rmult_le_compat; try apply Rabs_pos; exact Hphi.
  - replace (L i * Rabs e * (L i * Rabs e)) with (L i * L i * (Rabs e * Rabs e)) by ring.
    rewrite <- (Sq e). ring.
Qed.

(** Per-coordinate affine maps x_i |-> c_i x_i + b_i (batch normalization in
    evaluation mode: c_i = gamma_i / sqrt(var_i + eps)) are C-Lipschitz for
    any C >= |c_i| (i < n). *)
Theorem lipschitz_diag_affine : forall n (c b : vec) C,
  0 <= C -> (forall i, (i < n)%nat -> Rabs (c i) <= C) ->
  lipschitz n n C (fun x i => c i * x i + b i).
Proof.
  intros n c b C HC Hc x y.
  apply norm_le_of_sq; [exact HC|].
  unfold dot, vsub. rewrite <- sum_scal_l. apply sum_le. intros i Hi.
  replace (c i * x i + b i - (c i * y i + b i)) with (c i * (x i - y i)) by ring.
  replace (c i * (x i - y i) * (c i * (x i - y i))) with ((c i * c i) * ((x i - y i) * (x i - y i))) by ring.
  apply Rmult_le_compat_r; [apply Rle_0_sqr|].
  specialize (Hc i Hi).
  assert (E : c i * c i = Rabs (c i) * Rabs (c i)).
  { rewrite <- Rabs_mult, Rabs_right; [reflexivity|apply Rle_ge, Rle_0_sqr]. }
  rewrite E. apply Rmult_le_compat; try apply Rabs_pos; exact Hc.
Qed.
