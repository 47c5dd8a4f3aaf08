(** * Strictness: positive definiteness of s^2 I - W^T W gives sigma(W) < s.
    ([src/exact/compare.rs]: "positive definite ==> sigma < s".)
    Route: M = s^2 I - W^T W is symmetric and injective, hence has an inverse
    N ([Invert.square_injective_inverse]); the Cauchy-Schwarz inequality for
    the semi-inner product x^T M y gives x^T M x >= |x|^2 / (|N|_F + 1).
    The proofs are ours. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Norms Certificate Invert.
Open Scope R_scope.

Definition bform (n : nat) (M : mat) (u v : vec) : R := dot n u (matvec n M v).

Lemma bform_sym : forall n M u v, (forall i j, (i < n)%nat -> (j < n)%nat -> M i j = M j i) ->
  bform n M u v = bform n M v u.
Proof.
  intros n M u v HM. unfold bform, dot, matvec.
  rewrite (sum_ext n (fun i => u i * sum n (fun j => M i j * v j)) (fun i => sum n (fun j => u i * M i j * v j)))
    by (intros; rewrite <- sum_scal_l; apply sum_ext; intros; ring).
  rewrite sum_swap. apply sum_ext. intros j Hj.
  rewrite <- sum_scal_l. apply sum_ext. intros i Hi. rewrite (HM i j) by assumption. ring.
Qed.

Lemma quadform_comb : forall n M u v t, (forall i j, (i < n)%nat -> (j < n)%nat -> M i j = M j i) ->
  quadform n M (fun i => u i + t * v i)
  = quadform n M u + 2 * t * bform n M u v + t * t * quadform n M v.
Proof.
  intros n M u v t HM.
  assert (E : quadform n M (fun i => u i + t * v i)
              = quadform n M u + t * bform n M u v + t * bform n M v u + t * t * quadform n M v).
  { unfold quadform, bform, dot, matvec.
    rewrite (sum_ext n (fun i => (u i + t * v i) * sum n (fun j => M i j * (u j + t * v j)))
       (fun i => (u i + t * v i) * (sum n (fun j => M i j * u j) + t * sum n (fun j => M i j * v j)))).
    2: { intros i _. f_equal. rewrite <- sum_scal_l, <- sum_plus. apply sum_ext; intros; ring. }
    rewrite <- !sum_scal_l, <- !sum_plus. apply sum_ext. intros i _. ring. }
  rewrite E, (bform_sym n M v u HM). ring.
Qed.

Lemma quad_nonneg_disc : forall A B C, 0 <= A -> 0 <= C ->
  (forall t, 0 <= A + 2 * t * B + t * t * C) -> B * B <= A * C.
Proof.
  intros A B C HA HC H.
  destruct (Req_dec C 0) as [Z|NZ].
  - subst C. destruct (Req_dec B 0) as [ZB|NZB]; [subst; lra|].
    exfalso. specialize (H (- (A + 1) / (2 * B))).
    replace (A + 2 * (- (A + 1) / (2 * B)) * B + - (A + 1) / (2 * B) * (- (A + 1) / (2 * B)) * 0)
      with (-1) in H by (field; exact NZB). lra.
  - assert (PC : 0 < C) by lra. specialize (H (- B / C)).
    replace (A + 2 * (- B / C) * B + - B / C * (- B / C) * C) with (A - B * B / C) in H by (field; lra).
    apply (Rmult_le_reg_r (/ C)); [apply Rinv_0_lt_compat; exact PC|].
    replace (A * C * / C) with A by (field; lra). unfold Rdiv in H. lra.
Qed.

Lemma bform_cs : forall n M u v, (forall i j, (i < n)%nat -> (j < n)%nat -> M i j = M j i) -> psd n M ->
  bform n M u v * bform n M u v <= quadform n M u * quadform n M v.
Proof.
  intros n M u v HM HP. apply quad_nonneg_disc; [apply HP|apply HP|].
  intro t. rewrite <- quadform_comb by exact HM. apply HP.
Qed.

(** [posdef_strict_bound]: for s > 0, if s^2 I - W^T W is positive definite
    then sigma(W) <= t for some t < s, i.e. sigma(W) < s. *)
Theorem posdef_strict_bound : forall m n W s, 0 < s ->
  posdef n (msub (ident (s * s)) (gram m W)) ->
  exists t, 0 <= t < s /\ bounded m n W t.
Proof.
  intros m n W s Hs HP.
  set (M := msub (ident (s * s)) (gram m W)) in *.
  assert (HM : forall i j, (i < n)%nat -> (j < n)%nat -> M i j = M j i).
  { intros i j _ _. unfold M, msub, ident, gram, matmul, transpose.
    destruct (Nat.eq_dec i j) as [E|Hij].
    - subst j. destruct (Nat.eq_dec i i); [reflexivity|congruence].
    - destruct (Nat.eq_dec j i) as [E'|_]; [congruence|]. f_equal. apply sum_ext; intros; ring. }
  assert (Hpsd : psd n M) by (apply posdef_psd; exact HP).
  assert (Hinj : forall y : vec, (forall i, (i < n)%nat -> matvec n M y i = 0) ->
                 forall i, (i < n)%nat -> y i = 0).
  { intros y Hy. destruct (nonzero_or_zero n y) as [Hnz|Hz]; [|exact Hz].
    exfalso. pose proof (HP y Hnz) as Q. unfold quadform, dot in Q.
    rewrite (sum_ext n _ (fun _ => 0)) in Q by (intros i Hi; rewrite (Hy i Hi); ring).
    rewrite sum_zero in Q. lra. }
  destruct (square_injective_inverse n M Hinj) as [N HN].
  set (F := frobenius n n N).
  assert (HF : 0 <= F) by apply sqrt_pos.
  set (delta := / (F + 1)).
  assert (Hd : 0 < delta) by (apply Rinv_0_lt_compat; lra).
  (* x^T M x >= delta |x|^2 *)
  assert (Low : forall x, delta * dot n x x <= quadform n M x).
  { intro x. set (z := matvec n N x).
    assert (Mz : forall i, (i < n)%nat -> matvec n M z i = x i) by (intros; apply HN; assumption).
    assert (Bxz : bform n M x z = dot n x x).
    { unfold bform, dot. apply sum_ext. intros i Hi. rewrite (Mz i Hi). reflexivity. }
    assert (Qz : quadform n M z = dot n z x).
    { unfold quadform, dot. apply sum_ext. intros i Hi. rewrite (Mz i Hi). reflexivity. }
    pose proof (bform_cs n M x z HM Hpsd) as CS. rewrite Bxz, Qz in CS.
    assert (Zx : dot n z x <= F * dot n x x).
    { eapply Rle_trans; [apply Rle_abs|]. eapply Rle_trans; [apply cauchy_schwarz|].
      pose proof (spectral_le_frobenius n n N x) as B. fold z F in B.
      pose proof (norm_nonneg n x). rewrite <- norm_sq.
      replace (F * (norm n x * norm n x)) with ((F * norm n x) * norm n x) by ring.
      apply Rmult_le_compat_r; assumption. }
    pose proof (dot_self_nonneg n x) as X0. pose proof (Hpsd x) as Qx.
    destruct X0 as [Xp|Xz].
    - (* |x|^4 <= q(x) F |x|^2  ==>  |x|^2 <= F q(x) <= (F+1) q(x) *)
      assert (S1 : dot n x x * dot n x x <= quadform n M x * (F * dot n x x)).
      { eapply Rle_trans; [exact CS|]. apply Rmult_le_compat_l; assumption. }
      assert (S2 : dot n x x <= F * quadform n M x).
      { apply (Rmult_le_reg_r (dot n x x)); [exact Xp|]. nra. }
      unfold delta. apply (Rmult_le_reg_l (F + 1)); [lra|].
      rewrite <- Rmult_assoc, Rinv_r by lra. nra.
    - rewrite <- Xz. lra. }
  set (t2 := Rmax 0 (s * s - delta)).
  exists (sqrt t2). split; [split|].
  - apply sqrt_pos.
  - rewrite <- (sqrt_square s) by lra. apply sqrt_lt_1_alt. split; [apply Rmax_l|].
    unfold t2. apply Rmax_lub_lt; nra.
  - intro x. apply norm_le_of_sq; [apply sqrt_pos|]. rewrite sqrt_sqrt by apply Rmax_l.
    pose proof (Low x) as L. unfold M in L. rewrite quadform_sub, quadform_ident, quadform_gram in L.
    pose proof (dot_self_nonneg n x).
    assert (s * s - delta <= t2) by apply Rmax_r.
    assert ((s * s - delta) * dot n x x <= t2 * dot n x x) by (apply Rmult_le_compat_r; assumption).
    lra.
Qed.
