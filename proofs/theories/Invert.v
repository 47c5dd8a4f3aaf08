(** * Injective square matrices are onto, and the full upper half of
      Rump's 2011 enclosure.

    This is the only file that uses mathcomp (matrices and determinants over
    the standard library's reals through mathcomp-analysis' [Rstruct]): an
    injective square matrix has nonzero determinant ([det0P]), hence is
    invertible ([unitmxE]).  [Rstruct] defines a choice operator on R with
    the axiom [Epsilon.epsilon_statement], which is therefore allowed for
    this file (see proofs/README.md).  The proofs are ours. *)
Set Warnings "-notation-overridden -ambiguous-paths -notation-incompatible-format".
From Coq Require Import Reals Lra Lia.
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.analysis Require Import Rstruct.
From Lipcert Require Import Vec.

Local Open Scope ring_scope.

Lemma sum_big (n : nat) (f : nat -> R) : sum n f = (\sum_(i < n) f i).
Proof.
  elim: n => [|n IH]; first by rewrite big_ord0.
  rewrite big_ord_recr /= -IH. reflexivity.
Qed.

Lemma square_injective_onto (n : nat) (V : mat) :
  (forall y : vec, (forall i, (i < n)%coq_nat -> matvec n V y i = 0) ->
     forall i, (i < n)%coq_nat -> y i = 0) ->
  forall x : vec, exists y : vec, forall i, (i < n)%coq_nat -> matvec n V y i = x i.
Proof.
  case: n => [|n] Hinj x; first by exists x => i /ltP.
  pose A := \matrix_(i < n.+1, j < n.+1) V i j.
  have HA : A \in unitmx.
  { rewrite unitmxE GRing.unitfE -det_tr. apply/negP => /det0P [v Hv0 Hv].
    pose y := fun j => if (j < n.+1)%N then v 0 (inord j) else 0.
    have Hy : forall i, (i < n.+1)%coq_nat -> matvec n.+1 V y i = 0.
    { move=> i Hi. have Hi' : (i < n.+1)%N by apply/ltP.
      have := congr1 (fun M : 'rV_n.+1 => M 0 (Ordinal Hi')) Hv.
      rewrite !mxE /= => E. rewrite /matvec sum_big. apply: (etrans _ E).
      apply: eq_bigr => j _. rewrite !mxE /y ltn_ord inord_val. by rewrite GRing.mulrC. }
    have := Hinj y Hy. move=> Z. apply/negP: Hv0. rewrite negbK. apply/eqP/rowP => j.
    have := Z j (ltP (ltn_ord j)). rewrite /y ltn_ord inord_val mxE. done. }
  pose X := \col_(i < n.+1) x i.
  pose Y := invmx A *m X.
  exists (fun j => if (j < n.+1)%N then Y (inord j) 0 else 0).
  move=> i Hi. have Hi' : (i < n.+1)%N by apply/ltP.
  have AY : A *m Y = X by rewrite /Y mulmxA mulmxV // mul1mx.
  have := congr1 (fun M : 'cV_n.+1 => M (Ordinal Hi') 0) AY.
  rewrite !mxE => E. rewrite /matvec sum_big. apply: (etrans _ E).
  apply: eq_bigr => j _. rewrite !mxE ltn_ord inord_val. reflexivity.
Qed.

Local Close Scope ring_scope.
Local Open Scope R_scope.

From Lipcert Require Import Norms Certificate.

(** [rump_upper_bound_square]: the upper half of Rump 2011 Thm 3.2 for a
    square V: sigma(I - V^T V) <= alpha < 1 makes V injective, hence onto
    ([square_injective_onto]), and [Certificate.rump_upper_bound] applies. *)
Theorem rump_upper_bound_square : forall m n (S V D E : mat) d eps alpha,
  0 <= alpha < 1 -> 0 <= d + eps ->
  (forall a b, (a < n)%coq_nat -> (b < n)%coq_nat -> gram m (matmul n S V) a b = D a b + E a b) ->
  (forall a b, (a < n)%coq_nat -> (b < n)%coq_nat -> a <> b -> D a b = 0) ->
  (forall a, (a < n)%coq_nat -> D a a <= d) ->
  bounded n n E eps ->
  bounded n n (msub (ident 1) (gram n V)) alpha ->
  bounded m n S (sqrt ((d + eps) / (1 - alpha))).
Proof.
  intros m n S V D E d eps alpha Ha Hde HG HDoff HDd HE HA.
  apply (rump_upper_bound m n S V D E d eps alpha Ha Hde HG HDoff HDd HE HA).
  apply square_injective_onto.
  intros y Hy.
  assert (Q : quadform n (gram n V) y = 0).
  { rewrite quadform_gram. unfold dot.
    transitivity (sum n (fun _ : nat => 0)).
    - apply sum_ext. intros i Hi. rewrite (Hy i Hi). apply Rmult_0_l.
    - apply sum_zero. }
  pose proof (quadform_bound n _ alpha y HA) as QA.
  rewrite quadform_sub quadform_ident Q in QA.
  pose proof (dot_self_nonneg n y).
  assert (Z : norm n y = 0).
  { unfold norm. assert (D0 : dot n y y = 0) by nra. rewrite D0. apply sqrt_0. }
  apply (norm_zero_iff n y Z).
Qed.

Local Close Scope R_scope.
Local Open Scope ring_scope.

(** An injective square matrix has a right inverse N (M N x = x). *)
Lemma square_injective_inverse (n : nat) (M : mat) :
  (forall y : vec, (forall i, (i < n)%coq_nat -> matvec n M y i = 0) ->
     forall i, (i < n)%coq_nat -> y i = 0) ->
  exists N : mat, forall (x : vec) i, (i < n)%coq_nat -> matvec n M (matvec n N x) i = x i.
Proof.
  case: n => [|n] Hinj; first by exists M => x i /ltP.
  pose A := \matrix_(i < n.+1, j < n.+1) M i j.
  have HA : A \in unitmx.
  { rewrite unitmxE GRing.unitfE -det_tr. apply/negP => /det0P [v Hv0 Hv].
    pose y := fun j => if (j < n.+1)%N then v 0 (inord j) else 0.
    have Hy : forall i, (i < n.+1)%coq_nat -> matvec n.+1 M y i = 0.
    { move=> i Hi. have Hi' : (i < n.+1)%N by apply/ltP.
      have := congr1 (fun K : 'rV_n.+1 => K 0 (Ordinal Hi')) Hv.
      rewrite !mxE /= => E. rewrite /matvec sum_big. apply: (etrans _ E).
      apply: eq_bigr => j _. rewrite !mxE /y ltn_ord inord_val. by rewrite GRing.mulrC. }
    have := Hinj y Hy. move=> Z. apply/negP: Hv0. rewrite negbK. apply/eqP/rowP => j.
    have := Z j (ltP (ltn_ord j)). rewrite /y ltn_ord inord_val mxE. done. }
  pose B := invmx A.
  exists (fun i j => if ((i < n.+1) && (j < n.+1))%N then B (inord i) (inord j) else 0).
  move=> x i Hi. have Hi' : (i < n.+1)%N by apply/ltP.
  pose X := \col_(k < n.+1) x k.
  have AY : A *m (B *m X) = X by rewrite mulmxA mulmxV // mul1mx.
  have := congr1 (fun K : 'cV_n.+1 => K (Ordinal Hi') 0) AY.
  rewrite !mxE => E. rewrite /matvec sum_big. apply: (etrans _ E).
  apply: eq_bigr => j _. rewrite !mxE sum_big. congr (_ * _).
  apply: eq_bigr => k _. rewrite !mxE !ltn_ord /= inord_val inord_val. reflexivity.
Qed.
