(** * Gram iteration upper bound on the spectral norm.

    G_0 = W^T W, G_(k+1) = G_k^T G_k.  Then for all x
      |W x|^(2^(k+1)) <= |G_k|_F |x|^(2^(k+1)),
    i.e. sigma(W) <= |G_k|_F^(1/2^(k+1))  (Delattre, Barthelemy, Araujo,
    Allauzen, "Efficient bound of Lipschitz constant for convolutional layers
    by Gram iteration", ICML 2023; their index k counts W^T W as the first
    iterate).  Route: |W x|^2 = x^T G_0 x <= |x| |G_0 x| (Cauchy-Schwarz),
    iterate, and finish with |G x| <= |G|_F |x|.  The proof is ours. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Norms Certificate.
Open Scope R_scope.

(** G_k for an m x n matrix W; every G_k is n x n. *)
Fixpoint gram_iter (m n : nat) (W : mat) (k : nat) : mat :=
  match k with
  | O => gram m W
  | S k' => gram n (gram_iter m n W k')
  end.

(** |W x|^2 <= |x| |(W^T W) x|. *)
Lemma gram_step : forall m n W x,
  norm m (matvec n W x) * norm m (matvec n W x) <= norm n x * norm n (matvec n (gram m W) x).
Proof.
  intros. rewrite norm_sq, <- quadform_gram. unfold quadform.
  eapply Rle_trans; [apply Rle_abs|apply cauchy_schwarz].
Qed.

(** e_k = 2^(k+1) - 1 *)
Fixpoint ex (k : nat) : nat := match k with O => 1%nat | S k' => (2 * ex k' + 1)%nat end.

Lemma ex_spec : forall k, S (ex k) = (2 ^ S k)%nat.
Proof.
  induction k as [|k IH]; [reflexivity|].
  change (ex (S k)) with (2 * ex k + 1)%nat. rewrite Nat.pow_succ_r', <- IH. lia.
Qed.

Lemma gram_iter_chain : forall m n W k x,
  norm m (matvec n W x) ^ S (ex k) <= norm n x ^ ex k * norm n (matvec n (gram_iter m n W k) x).
Proof.
  intros m n W k x. pose proof (norm_nonneg n x) as Nx.
  induction k as [|k IH].
  - simpl. rewrite !Rmult_1_r. apply gram_step.
  - set (a := norm m (matvec n W x)) in *.
    set (g := norm n (matvec n (gram_iter m n W k) x)) in *.
    pose proof (norm_nonneg m (matvec n W x)) as Na. fold a in Na.
    pose proof (norm_nonneg n (matvec n (gram_iter m n W k) x)) as Ng. fold g in Ng.
    change (ex (S k)) with (2 * ex k + 1)%nat.
    replace (S (2 * ex k + 1)) with (S (ex k) * 2)%nat by lia.
    rewrite pow_mult.
    assert (Sq : (a ^ S (ex k)) ^ 2 <= (norm n x ^ ex k * g) ^ 2).
    { apply pow_incr. split; [apply pow_le; exact Na|exact IH]. }
    eapply Rle_trans; [exact Sq|].
    pose proof (gram_step n n (gram_iter m n W k) x) as St. fold g in St.
    simpl (gram_iter m n W (S k)).
    replace ((norm n x ^ ex k * g) ^ 2) with (norm n x ^ ex k * norm n x ^ ex k * (g * g)) by ring.
    replace (2 * ex k + 1)%nat with (ex k + ex k + 1)%nat by lia.
    rewrite !pow_add, pow_1.
    rewrite (Rmult_assoc (norm n x ^ ex k * norm n x ^ ex k)).
    apply Rmult_le_compat_l; [apply Rmult_le_pos; apply pow_le; exact Nx|exact St].
Qed.

(** [gram_iteration_bound]: |W x|^(2^(k+1)) <= |G_k|_F |x|^(2^(k+1)). *)
Theorem gram_iteration_bound : forall m n W k x,
  norm m (matvec n W x) ^ (2 ^ S k) <= frobenius n n (gram_iter m n W k) * norm n x ^ (2 ^ S k).
Proof.
  intros m n W k x. rewrite <- ex_spec.
  eapply Rle_trans; [apply gram_iter_chain|].
  pose proof (spectral_le_frobenius n n (gram_iter m n W k) x) as F.
  pose proof (norm_nonneg n x) as Nx.
  replace (frobenius n n (gram_iter m n W k) * norm n x ^ S (ex k))
    with (norm n x ^ ex k * (frobenius n n (gram_iter m n W k) * norm n x)) by (simpl; ring).
  apply Rmult_le_compat_l; [apply pow_le; exact Nx|exact F].
Qed.

Lemma pow_lt_compat : forall a b N, 0 <= b -> b < a -> b ^ S N < a ^ S N.
Proof.
  intros a b N Hb Hab. induction N as [|N IH]; [simpl; lra|].
  change (b ^ S (S N)) with (b * b ^ S N). change (a ^ S (S N)) with (a * a ^ S N).
  apply Rmult_le_0_lt_compat; [exact Hb|apply pow_le; exact Hb|exact Hab|exact IH].
Qed.

(** Corollary in operator-norm form: if |G_k|_F <= t^(2^(k+1)) with t >= 0,
    then sigma(W) <= t. *)
Theorem gram_iteration_sigma : forall m n W k t, 0 <= t ->
  frobenius n n (gram_iter m n W k) <= t ^ (2 ^ S k) -> bounded m n W t.
Proof.
  intros m n W k t Ht HF x.
  pose proof (gram_iteration_bound m n W k x) as G.
  pose proof (norm_nonneg n x) as Nx. pose proof (norm_nonneg m (matvec n W x)) as Na.
  rewrite <- ex_spec in *.
  assert (B : norm m (matvec n W x) ^ S (ex k) <= (t * norm n x) ^ S (ex k)).
  { rewrite Rpow_mult_distr. eapply Rle_trans; [exact G|].
    apply Rmult_le_compat_r; [apply pow_le; exact Nx|exact HF]. }
  destruct (Rle_or_lt (norm m (matvec n W x)) (t * norm n x)) as [L|L]; [exact L|].
  exfalso. assert (0 <= t * norm n x) by (apply Rmult_le_pos; assumption).
  pose proof (pow_lt_compat _ _ (ex k) H L). lra.
Qed.

(** ** Steps of the rescaled, rounded Gram iteration ([src/certify/gram_upper.rs]) *)

(** sigma(X)^2 <= sigma(X^T X): if sigma(X^T X) <= b then sigma(X) <= sqrt b. *)
Theorem gram_sqrt_bound : forall m n X b, 0 <= b ->
  bounded n n (gram m X) b -> bounded m n X (sqrt b).
Proof.
  intros m n X b Hb HG x. apply norm_le_of_sq; [apply sqrt_pos|].
  rewrite sqrt_sqrt by exact Hb. rewrite <- norm_sq.
  eapply Rle_trans; [apply gram_step|].
  pose proof (norm_nonneg n x). rewrite <- norm_sq.
  replace (b * (norm n x * norm n x)) with (norm n x * (b * norm n x)) by ring.
  apply Rmult_le_compat_l; [assumption|apply HG].
Qed.

(** Scaling: sigma(c A) <= |c| t when sigma(A) <= t. *)
Theorem bounded_scale : forall m n A t c,
  bounded m n A t -> bounded m n (fun i j => c * A i j) (Rabs c * t).
Proof.
  intros m n A t c HA x.
  rewrite (norm_ext m _ (vscale c (matvec n A x))).
  - rewrite norm_scale, Rmult_assoc. apply Rmult_le_compat_l; [apply Rabs_pos|apply HA].
  - intros i _. unfold matvec, vscale. rewrite <- sum_scal_l. apply sum_ext; intros; ring.
Qed.

Lemma sum_const : forall n c, sum n (fun _ => c) = INR n * c.
Proof. induction n as [|n IH]; intro c; simpl; [ring|rewrite IH]. destruct n; simpl; ring. Qed.

(** An m x n matrix with entries bounded by c >= 0 in absolute value has
    sigma <= sqrt(m n) c (e.g. N eta / 2 for an N x N underflow error). *)
Theorem entrywise_small_bound : forall m n E c, 0 <= c ->
  (forall i j, (i < m)%nat -> (j < n)%nat -> Rabs (E i j) <= c) ->
  bounded m n E (sqrt (INR m * INR n) * c).
Proof.
  intros m n E c Hc HE.
  apply (spectral_le_abs m n E (fun _ _ => c)); [exact HE|].
  replace (sqrt (INR m * INR n) * c) with (frobenius m n (fun _ _ => c)).
  - apply spectral_le_frobenius.
  - unfold frobenius. rewrite (sum_ext m _ (fun _ => INR n * (c * c))) by (intros; apply sum_const).
    rewrite sum_const.
    replace (INR m * (INR n * (c * c))) with ((INR m * INR n) * (c * c)) by ring.
    rewrite sqrt_mult; [|apply Rmult_le_pos; apply pos_INR|apply Rle_0_sqr].
    rewrite sqrt_square by exact Hc. reflexivity.
Qed.
