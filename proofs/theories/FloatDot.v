(** * A-priori error bound of a floating-point dot product, any summation order.

    Model: a binary floating-point format with gradual underflow
    ([FloatRounding.FORMAT]: binary64 or binary32, see FloatRounding.v),
    round to nearest with any tie-breaking rule, fused multiply-adds allowed.
    The proofs are written once, in [Module Dot (F : FORMAT)], for every
    format; [Include Dot Binary64] at the end of the file makes the binary64
    instance the top-level names of this file ([u] = 2^-53, [eta] = 2^-1074,
    [dot_error_bound], ...), as before the generalisation.  The products
    [a_i * b_i] are rounded once each, then summed by an arbitrary binary tree
    of rounded additions.  Every evaluation order (left to right, pairwise,
    blocked, SIMD lanes, any permutation of the terms) is such a tree.  The
    leaves need not even be floats: the bound holds for any real a_i, b_i
    whose product is rounded to nearest.

    Reference for the classical bound: N. J. Higham, Accuracy and Stability of
    Numerical Algorithms, 2nd ed., SIAM 2002, Sec. 3.1; the underflow term is
    handled here as in the "mixed" model fl(x*y) = x*y*(1+d) + e with
    |d| <= u, |e| <= eta/2 (Flocq's [error_N_FLT]), and sums of two floats
    are exact when they underflow (Flocq's [FLT_plus_error_N_ex]).
    The proofs are ours. *)
From Coq Require Import Reals Lra Lia List Permutation.
From Flocq Require Import Core Relative Plus_error.
(* Required, not imported: the functor [Dot] includes its own copy of
   [FloatRounding.Rounding], and importing the top-level binary64 names of
   FloatRounding as well would make [u], [eta], ... ambiguous. *)
From Lipcert Require FloatRounding.
Open Scope R_scope.

Module Dot (F : FloatRounding.FORMAT).
Include FloatRounding.Rounding F.

Lemma u_ro_eq : u_ro radix2 prec = u.
Proof.
  unfold u_ro, u.
  replace (/ 2) with (bpow radix2 (-1)) by (simpl; reflexivity).
  rewrite <- bpow_plus; f_equal; ring.
Qed.

Lemma u_small : u <= / 4.
Proof. pose proof u_le_64. lra. Qed.

(** gamma_n = n u / (1 - n u) *)
Definition gamma (n : nat) : R := INR n * u / (1 - INR n * u).

Lemma frac_mono : forall a b, 0 <= a -> a <= b -> b < 1 -> a / (1 - a) <= b / (1 - b).
Proof.
  intros a b Ha Hab Hb.
  replace (a / (1 - a)) with (/ (1 - a) - 1) by (field; intro; lra).
  replace (b / (1 - b)) with (/ (1 - b) - 1) by (field; intro; lra).
  apply Rplus_le_compat_r, Rinv_le_contravar; lra.
Qed.

Lemma gamma_mono : forall j k, (j <= k)%nat -> INR k * u < 1 -> gamma j <= gamma k.
Proof.
  intros j k Hjk Hk. unfold gamma.
  pose proof (u_pos) as Hu. apply le_INR in Hjk. pose proof (pos_INR j).
  apply frac_mono; [apply Rmult_le_pos; lra| apply Rmult_le_compat_r; lra | exact Hk].
Qed.

Lemma gamma_nonneg : forall k, INR k * u < 1 -> 0 <= gamma k.
Proof.
  intros k Hk. unfold gamma. pose proof u_pos. pose proof (pos_INR k).
  apply Rmult_le_pos; [apply Rmult_le_pos; lra|].
  apply Rlt_le, Rinv_0_lt_compat; lra.
Qed.

(** (1+u) gamma_j + u <= gamma_(j+1) *)
Lemma gamma_step : forall j, INR (S j) * u < 1 -> (1 + u) * gamma j + u <= gamma (S j).
Proof.
  intros j Hj. unfold gamma. rewrite S_INR in *.
  pose proof u_pos. pose proof (pos_INR j).
  set (a := INR j * u) in *.
  assert (Ha : 0 <= a) by (unfold a; apply Rmult_le_pos; lra).
  assert (Hau : a + u < 1) by (unfold a; lra).
  replace ((INR j + 1) * u) with (a + u) by (unfold a; ring).
  replace ((1 + u) * (a / (1 - a)) + u) with ((a + u) * / (1 - a))
    by (field; intro; lra).
  unfold Rdiv. apply Rmult_le_compat_l; [lra|].
  apply Rinv_le_contravar; lra.
Qed.

(** (1+u)^j (1 - j u) <= 1 for every j. *)
Lemma pow_1pu_bound : forall j, (1 + u) ^ j * (1 - INR j * u) <= 1.
Proof.
  pose proof u_pos as Hu.
  induction j as [|j IH]; [simpl; lra|].
  rewrite S_INR. simpl pow.
  assert (P : 0 <= (1 + u) ^ j) by (apply pow_le; lra).
  assert (K : (1 + u) * (1 - (INR j + 1) * u) <= 1 - INR j * u).
  { assert (0 <= (INR j + 1) * u * u) by (apply Rmult_le_pos; [apply Rmult_le_pos|]; pose proof (pos_INR j); lra).
    nra. }
  replace ((1 + u) * (1 + u) ^ j * (1 - (INR j + 1) * u))
    with ((1 + u) ^ j * ((1 + u) * (1 - (INR j + 1) * u))) by ring.
  eapply Rle_trans; [apply Rmult_le_compat_l; [exact P|exact K]|exact IH].
Qed.

Section Trees.
Variable choice : Z -> bool.
Let fl1 := RN choice.

Lemma add_error : forall x y, format x -> format y ->
  Rabs (fl1 (x + y) - (x + y)) <= u * Rabs (x + y).
Proof.
  intros x y Fx Fy.
  destruct (FLT_plus_error_N_ex radix2 emin prec choice x y Fx Fy) as (d & Hd & Hr).
  unfold fl1, RN, fexp. rewrite Hr.
  replace ((x + y) * (1 + d) - (x + y)) with ((x + y) * d) by ring.
  rewrite Rabs_mult, (Rmult_comm u). apply Rmult_le_compat_l; [apply Rabs_pos|].
  eapply Rle_trans; [exact Hd|]. rewrite <- u_ro_eq.
  apply u_rod1pu_ro_le_u_ro.
Qed.

(** A summation tree over rounded products.  [Fma a b t] is a fused
    multiply-add: fl(a*b + fl(t)) with a single rounding. *)
Inductive tree : Type :=
  | Leaf (a b : R)
  | Node (l r : tree)
  | Fma (a b : R) (t : tree).

Fixpoint leaves (t : tree) : list (R * R) :=
  match t with Leaf a b => (a, b) :: nil | Node l r => leaves l ++ leaves r
  | Fma a b t' => (a, b) :: leaves t' end.

Fixpoint size (t : tree) : nat :=
  match t with Leaf _ _ => 1%nat | Node l r => (size l + size r)%nat
  | Fma _ _ t' => S (size t') end.

(** Exact value: sum of the products. *)
Fixpoint exact (t : tree) : R :=
  match t with Leaf a b => a * b | Node l r => exact l + exact r
  | Fma a b t' => a * b + exact t' end.

(** Sum of the absolute values of the products. *)
Fixpoint absum (t : tree) : R :=
  match t with Leaf a b => Rabs (a * b) | Node l r => absum l + absum r
  | Fma a b t' => Rabs (a * b) + absum t' end.

(** Floating-point value: every product and every addition rounded. *)
Fixpoint fl (t : tree) : R :=
  match t with Leaf a b => fl1 (a * b) | Node l r => fl1 (fl l + fl r)
  | Fma a b t' => fl1 (a * b + fl t') end.

Definition sum_prod (L : list (R * R)) : R :=
  fold_right (fun p s => fst p * snd p + s) 0 L.
Definition sum_abs_prod (L : list (R * R)) : R :=
  fold_right (fun p s => Rabs (fst p * snd p) + s) 0 L.

Lemma sum_prod_app : forall L M, sum_prod (L ++ M) = sum_prod L + sum_prod M.
Proof. induction L as [|p L IH]; intro M; simpl; [ring|rewrite IH; ring]. Qed.
Lemma sum_abs_prod_app : forall L M, sum_abs_prod (L ++ M) = sum_abs_prod L + sum_abs_prod M.
Proof. induction L as [|p L IH]; intro M; simpl; [ring|rewrite IH; ring]. Qed.

Lemma exact_leaves : forall t, exact t = sum_prod (leaves t).
Proof.
  induction t; simpl; [unfold sum_prod; simpl; ring|rewrite sum_prod_app; congruence|].
  rewrite IHt. reflexivity.
Qed.
Lemma absum_leaves : forall t, absum t = sum_abs_prod (leaves t).
Proof.
  induction t; simpl; [unfold sum_abs_prod; simpl; ring|rewrite sum_abs_prod_app; congruence|].
  rewrite IHt. reflexivity.
Qed.
Lemma size_leaves : forall t, size t = length (leaves t).
Proof. induction t; simpl; [reflexivity|rewrite app_length; congruence|congruence]. Qed.

(** The exact sum does not depend on the order of the terms. *)
Lemma sum_prod_perm : forall L M, Permutation.Permutation L M -> sum_prod L = sum_prod M.
Proof. intros L M H; induction H; simpl; lra. Qed.
Lemma sum_abs_prod_perm : forall L M, Permutation.Permutation L M -> sum_abs_prod L = sum_abs_prod M.
Proof. intros L M H; induction H; simpl; lra. Qed.

Lemma size_pos : forall t, (1 <= size t)%nat.
Proof. induction t; simpl; lia. Qed.

Lemma abs_exact_le : forall t, Rabs (exact t) <= absum t.
Proof.
  induction t; simpl; [lra| |];
  (eapply Rle_trans; [apply Rabs_triang|lra]).
Qed.

Lemma absum_nonneg : forall t, 0 <= absum t.
Proof. intro t; eapply Rle_trans; [apply Rabs_pos|apply abs_exact_le]. Qed.

Lemma fl_format : forall t, format (fl t).
Proof. destruct t; simpl; apply RN_format. Qed.

(** Height of a tree: the most roundings on a path from a product to the
    result (a leaf is one rounding).  A tree with n products has height at
    most n; a balanced or blocked sum has a much smaller one. *)
Fixpoint height (t : tree) : nat :=
  match t with Leaf _ _ => 1%nat | Node l r => S (Nat.max (height l) (height r))
  | Fma _ _ t' => S (height t') end.

Lemma height_pos : forall t, (1 <= height t)%nat.
Proof. induction t; simpl; lia. Qed.

Lemma height_le_size : forall t, (height t <= size t)%nat.
Proof. induction t; simpl; try lia. pose proof (size_pos t1); pose proof (size_pos t2); lia. Qed.

(** The general bound by height, for h u < 1 (h = height t, n = size t):
    |fl(t) - exact(t)| <= gamma_h * sum |a_i b_i| + n (eta/2) (1+u)^(h-1).
    (Higham, Accuracy and Stability, 2nd ed., Sec. 3.1: the error of a sum
    grows with the depth of its evaluation tree; with underflow here.) *)
Theorem dot_error_bound_height :
  forall t, INR (height t) * u < 1 ->
  Rabs (fl t - exact t)
    <= gamma (height t) * absum t + INR (size t) * (/ 2 * eta) * (1 + u) ^ (Nat.pred (height t)).
Proof.
  pose proof u_pos as Hu. pose proof eta_pos as He. pose proof u_small as Hu4.
  assert (U1 : u <= gamma 1).
  { unfold gamma. simpl INR. rewrite Rmult_1_l.
    unfold Rdiv. rewrite <- (Rmult_1_r u) at 1.
    apply Rmult_le_compat_l; [lra|].
    rewrite <- Rinv_1. apply Rinv_le_contravar; lra. }
  induction t as [a b|l IHl r IHr|a b t IHt]; intro Hn.
  - simpl. simpl in Hn. unfold fl1.
    eapply Rle_trans; [apply rn_error_bound|].
    assert (u * Rabs (a * b) <= gamma 1 * Rabs (a * b))
      by (apply Rmult_le_compat_r; [apply Rabs_pos|assumption]).
    simpl. lra.
  - simpl height in *. simpl size. simpl fl; simpl exact; simpl absum.
    pose proof (height_pos l) as Pl; pose proof (height_pos r) as Pr.
    set (hl := height l) in *; set (hr := height r) in *.
    set (hm := Nat.max hl hr) in *.
    assert (Hlm : (hl <= hm)%nat) by (unfold hm; lia).
    assert (Hrm : (hr <= hm)%nat) by (unfold hm; lia).
    assert (Hm : INR hm * u < 1) by (rewrite S_INR in Hn; lra).
    assert (Hl : INR hl * u < 1).
    { assert (INR hl <= INR hm) by (apply le_INR; exact Hlm). nra. }
    assert (Hr : INR hr * u < 1).
    { assert (INR hr <= INR hm) by (apply le_INR; exact Hrm). nra. }
    specialize (IHl Hl); specialize (IHr Hr).
    set (El := fl l - exact l) in *; set (Er := fl r - exact r) in *.
    set (s := fl l + fl r).
    pose proof (add_error (fl l) (fl r) (fl_format l) (fl_format r)) as Ha. fold s in Ha.
    assert (Hs : Rabs s <= absum l + absum r + Rabs El + Rabs Er).
    { unfold s, El, Er. pose proof (abs_exact_le l); pose proof (abs_exact_le r).
      replace (fl l + fl r) with (exact l + exact r + ((fl l - exact l) + (fl r - exact r))) by ring.
      eapply Rle_trans; [apply Rabs_triang|].
      pose proof (Rabs_triang (exact l) (exact r)).
      pose proof (Rabs_triang (fl l - exact l) (fl r - exact r)). lra. }
    assert (Htot : Rabs (fl1 s - (exact l + exact r)) <= u * Rabs s + Rabs El + Rabs Er).
    { replace (fl1 s - (exact l + exact r)) with ((fl1 s - s) + El + Er) by (unfold s, El, Er; ring).
      eapply Rle_trans; [apply Rabs_triang|].
      pose proof (Rabs_triang (fl1 s - s) El). lra. }
    (* the relative part *)
    set (gk := gamma (S hm)).
    assert (Gl : (1 + u) * gamma hl + u <= gk).
    { eapply Rle_trans; [apply gamma_step|apply gamma_mono; [lia|exact Hn]].
      assert (INR (S hl) <= INR (S hm)) by (apply le_INR; lia). nra. }
    assert (Gr : (1 + u) * gamma hr + u <= gk).
    { eapply Rle_trans; [apply gamma_step|apply gamma_mono; [lia|exact Hn]].
      assert (INR (S hr) <= INR (S hm)) by (apply le_INR; lia). nra. }
    pose proof (absum_nonneg l) as Al; pose proof (absum_nonneg r) as Ar.
    assert (R1 : 0 <= (gk - ((1 + u) * gamma hl + u)) * absum l) by (apply Rmult_le_pos; lra).
    assert (R2 : 0 <= (gk - ((1 + u) * gamma hr + u)) * absum r) by (apply Rmult_le_pos; lra).
    (* the absolute (underflow) part *)
    set (h := / 2 * eta) in *.
    assert (Hh : 0 <= h) by (unfold h; lra).
    pose proof (pos_INR (size l)); pose proof (pos_INR (size r)).
    assert (Tl : (1 + u) * (INR (size l) * h * (1 + u) ^ Nat.pred hl)
                 <= INR (size l) * h * (1 + u) ^ Nat.pred (S hm)).
    { replace ((1 + u) * (INR (size l) * h * (1 + u) ^ Nat.pred hl))
        with (INR (size l) * h * (1 + u) ^ (S (Nat.pred hl))) by (simpl; ring).
      apply Rmult_le_compat_l; [apply Rmult_le_pos; lra|].
      apply Rle_pow; [lra|simpl; lia]. }
    assert (Tr : (1 + u) * (INR (size r) * h * (1 + u) ^ Nat.pred hr)
                 <= INR (size r) * h * (1 + u) ^ Nat.pred (S hm)).
    { replace ((1 + u) * (INR (size r) * h * (1 + u) ^ Nat.pred hr))
        with (INR (size r) * h * (1 + u) ^ (S (Nat.pred hr))) by (simpl; ring).
      apply Rmult_le_compat_l; [apply Rmult_le_pos; lra|].
      apply Rle_pow; [lra|simpl; lia]. }
    set (Ta := INR (size l) * h * (1 + u) ^ Nat.pred hl) in *.
    set (Tb := INR (size r) * h * (1 + u) ^ Nat.pred hr) in *.
    set (P := (1 + u) ^ Nat.pred (S hm)) in *.
    assert (Ml : (1 + u) * Rabs El <= (1 + u) * (gamma hl * absum l + Ta))
      by (apply Rmult_le_compat_l; lra).
    assert (Mr : (1 + u) * Rabs Er <= (1 + u) * (gamma hr * absum r + Tb))
      by (apply Rmult_le_compat_l; lra).
    assert (Mu : u * Rabs s <= u * (absum l + absum r + Rabs El + Rabs Er))
      by (apply Rmult_le_compat_l; lra).
    rewrite plus_INR.
    replace ((INR (size l) + INR (size r)) * h * P) with (INR (size l) * h * P + INR (size r) * h * P) by ring.
    lra.
  - (* fused multiply-add: fl(a b + fl t) rounded once *)
    simpl height in *. simpl size. simpl fl; simpl exact; simpl absum.
    pose proof (height_pos t) as Pt. set (k := height t) in *.
    assert (Hk : INR k * u < 1) by (rewrite S_INR in Hn; lra).
    specialize (IHt Hk).
    set (Et := fl t - exact t) in *.
    set (y := a * b + fl t).
    pose proof (rn_error_bound choice y) as Ry. fold fl1 in Ry.
    assert (Hy : Rabs y <= Rabs (a * b) + absum t + Rabs Et).
    { unfold y, Et. replace (a * b + fl t) with (a * b + exact t + (fl t - exact t)) by ring.
      eapply Rle_trans; [apply Rabs_triang|].
      pose proof (Rabs_triang (a * b) (exact t)). pose proof (abs_exact_le t). lra. }
    assert (Htot : Rabs (fl1 y - (a * b + exact t)) <= Rabs (fl1 y - y) + Rabs Et).
    { replace (fl1 y - (a * b + exact t)) with ((fl1 y - y) + Et) by (unfold y, Et; ring).
      apply Rabs_triang. }
    set (h := / 2 * eta) in *.
    assert (Hh : 0 <= h) by (unfold h; lra).
    pose proof (absum_nonneg t) as At.
    assert (G1 : (1 + u) * gamma k + u <= gamma (S k)) by (apply gamma_step; exact Hn).
    assert (G2 : u <= gamma (S k)) by (eapply Rle_trans; [exact U1|apply gamma_mono; [lia|exact Hn]]).
    assert (R1 : 0 <= (gamma (S k) - ((1 + u) * gamma k + u)) * absum t) by (apply Rmult_le_pos; lra).
    assert (R2 : 0 <= (gamma (S k) - u) * Rabs (a * b)) by (apply Rmult_le_pos; [lra|apply Rabs_pos]).
    pose proof (pos_INR (size t)).
    assert (Pw1 : 1 <= (1 + u) ^ k) by (apply pow_R1_Rle; lra).
    assert (Tk : (1 + u) * (INR (size t) * h * (1 + u) ^ Nat.pred k) + h
                 <= INR (S (size t)) * h * (1 + u) ^ Nat.pred (S k)).
    { simpl Nat.pred. rewrite S_INR.
      replace ((1 + u) * (INR (size t) * h * (1 + u) ^ Nat.pred k))
        with (INR (size t) * h * (1 + u) ^ S (Nat.pred k)) by (simpl; ring).
      replace (S (Nat.pred k)) with k by lia.
      assert (h * 1 <= h * (1 + u) ^ k) by (apply Rmult_le_compat_l; lra). lra. }
    set (T := INR (size t) * h * (1 + u) ^ Nat.pred k) in *.
    assert (M1 : (1 + u) * Rabs Et <= (1 + u) * (gamma k * absum t + T))
      by (apply Rmult_le_compat_l; lra).
    assert (M2 : u * Rabs y <= u * (Rabs (a * b) + absum t + Rabs Et))
      by (apply Rmult_le_compat_l; lra).
    lra.
Qed.

(** The general bound by size, for n u < 1:
    |fl(t) - exact(t)| <= gamma_n * sum |a_i b_i| + n (eta/2) (1+u)^(n-1)
    (the height is at most the size). *)
Theorem dot_error_bound_general :
  forall t, INR (size t) * u < 1 ->
  Rabs (fl t - exact t)
    <= gamma (size t) * absum t + INR (size t) * (/ 2 * eta) * (1 + u) ^ (Nat.pred (size t)).
Proof.
  intros t Hn.
  pose proof u_pos as Hu. pose proof eta_pos as He.
  pose proof (height_le_size t) as Hhs. pose proof (height_pos t) as Hh1.
  assert (Hh : INR (height t) * u < 1).
  { assert (INR (height t) <= INR (size t)) by (apply le_INR; exact Hhs). nra. }
  eapply Rle_trans; [apply dot_error_bound_height; exact Hh|].
  pose proof (absum_nonneg t). pose proof (pos_INR (size t)).
  apply Rplus_le_compat.
  - apply Rmult_le_compat_r; [lra|]. apply gamma_mono; [exact Hhs|exact Hn].
  - apply Rmult_le_compat_l; [apply Rmult_le_pos; lra|].
    apply Rle_pow; [lra|lia].
Qed.

(** (1+u)^(k-1) <= 2 when 2 k u <= 1. *)
Lemma pow_1pu_le_2 : forall k, 2 * INR k * u <= 1 -> (1 + u) ^ Nat.pred k <= 2.
Proof.
  intros k Hk. pose proof u_pos as Hu.
  pose proof (pow_1pu_bound (Nat.pred k)) as B.
  assert (INR (Nat.pred k) <= INR k) by (apply le_INR; lia).
  assert (/ 2 <= 1 - INR (Nat.pred k) * u).
  { assert (INR (Nat.pred k) * u <= INR k * u) by (apply Rmult_le_compat_r; lra). lra. }
  assert (0 <= (1 + u) ^ Nat.pred k) by (apply pow_le; lra).
  nra.
Qed.

(** [dot_error_bound_height_simple]: for a tree of height h with n products
    and 2 h u <= 1: |fl(t) - sum a_i b_i| <= gamma_h sum |a_i b_i| + n eta.
    A sum evaluated in blocks of b products whose B partial results are then
    added one by one has height at most b + B - 1 (certify/gram.rs, the
    blocked Gram product). *)
Theorem dot_error_bound_height_simple :
  forall t, 2 * INR (height t) * u <= 1 ->
  Rabs (fl t - sum_prod (leaves t))
    <= gamma (height t) * sum_abs_prod (leaves t) + INR (size t) * eta.
Proof.
  intros t Hn.
  rewrite <- exact_leaves, <- absum_leaves.
  pose proof u_pos as Hu. pose proof eta_pos as He.
  assert (Hn' : INR (height t) * u < 1) by lra.
  eapply Rle_trans; [apply dot_error_bound_height; exact Hn'|].
  apply Rplus_le_compat_l.
  pose proof (pos_INR (size t)).
  replace (INR (size t) * eta) with (INR (size t) * (/ 2 * eta) * 2) by field.
  apply Rmult_le_compat_l; [apply Rmult_le_pos; lra|].
  apply pow_1pu_le_2; exact Hn.
Qed.

(** [dot_error_bound]: for n = number of products with 2 n u <= 1 (the Rust
    side returns +inf for gamma_n when n u >= 1/2):
    |fl(sum a_i b_i) - sum a_i b_i| <= gamma_n sum |a_i b_i| + n eta,
    for every summation tree t whose leaves are the pairs (a_i, b_i). *)
Theorem dot_error_bound :
  forall t, 2 * INR (size t) * u <= 1 ->
  Rabs (fl t - sum_prod (leaves t))
    <= gamma (size t) * sum_abs_prod (leaves t) + INR (size t) * eta.
Proof.
  intros t Hn.
  pose proof u_pos as Hu. pose proof (height_le_size t) as Hhs.
  assert (Hh : INR (height t) <= INR (size t)) by (apply le_INR; exact Hhs).
  eapply Rle_trans; [apply dot_error_bound_height_simple; nra|].
  apply Rplus_le_compat_r, Rmult_le_compat_r.
  - rewrite <- absum_leaves. apply absum_nonneg.
  - apply gamma_mono; [exact Hhs|lra].
Qed.

(** The same bound stated for any list of terms summed in any order: if the
    leaves of t are a permutation of L, the exact sum is the sum over L. *)
Corollary dot_error_bound_perm :
  forall t (L : list (R * R)),
  Permutation.Permutation (leaves t) L ->
  2 * INR (length L) * u <= 1 ->
  Rabs (fl t - sum_prod L) <= gamma (length L) * sum_abs_prod L + INR (length L) * eta.
Proof.
  intros t L HP Hn.
  rewrite <- (sum_prod_perm _ _ HP), <- (sum_abs_prod_perm _ _ HP).
  rewrite <- (Permutation.Permutation_length HP), <- size_leaves in *.
  apply dot_error_bound; exact Hn.
Qed.

(** [sum_of_squares_bounds]: for a sum of squares (or of nonnegative
    products) S = sum x_i^2 computed as F = fl(t) in any order,
    (1 - gamma_n) S <= F + n eta and F - n eta <= (1 + gamma_n) S;
    so S <= (F + n eta)/(1 - gamma_n) and S >= (F - n eta)/(1 + gamma_n)
    (rounding.rs: norm2_up, sum_of_squares_up, norm2_down). *)
Theorem sum_of_squares_bounds : forall t,
  (forall p, In p (leaves t) -> 0 <= fst p * snd p) ->
  2 * INR (size t) * u <= 1 ->
  (1 - gamma (size t)) * sum_prod (leaves t) <= fl t + INR (size t) * eta /\
  fl t - INR (size t) * eta <= (1 + gamma (size t)) * sum_prod (leaves t).
Proof.
  intros t Hpos Hn.
  pose proof (dot_error_bound t Hn) as B.
  assert (E : sum_abs_prod (leaves t) = sum_prod (leaves t)).
  { revert Hpos. generalize (leaves t). intro L.
    induction L as [|p L IH]; intro Hp; [reflexivity|].
    unfold sum_abs_prod, sum_prod in *. simpl.
    rewrite Rabs_right by (apply Rle_ge, Hp; left; reflexivity).
    rewrite IH by (intros q Hq; apply Hp; right; exact Hq). reflexivity. }
  rewrite E in B. pose proof (Rle_abs (fl t - sum_prod (leaves t))).
  pose proof (Rle_abs (- (fl t - sum_prod (leaves t)))). rewrite Rabs_Ropp in *.
  split; lra.
Qed.

(** Left-to-right summation, as in Rust's [Iterator::sum] after the first
    term (0 + x is exact, so starting the fold from 0 changes nothing). *)
Fixpoint seq_tree (t0 : tree) (L : list (R * R)) : tree :=
  match L with nil => t0 | (a, b) :: L' => seq_tree (Node t0 (Leaf a b)) L' end.

Lemma seq_tree_leaves : forall L t0, leaves (seq_tree t0 L) = leaves t0 ++ L.
Proof.
  induction L as [|[a b] L IH]; intro t0; simpl; [now rewrite app_nil_r|].
  rewrite IH; simpl; now rewrite <- app_assoc.
Qed.

End Trees.

End Dot.

(** The binary64 instance, at the top level of this file. *)
Include Dot FloatRounding.Binary64.
