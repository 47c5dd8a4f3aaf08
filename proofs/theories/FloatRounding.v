(** * Rounding to nearest in a binary floating-point format.

    Model (Flocq 4): radix 2, format [FLT_exp emin prec]: precision [prec]
    bits, smallest positive (subnormal) number [eta = 2^emin], gradual
    underflow, exponent range unbounded above (overflow is treated
    separately, by an explicit hypothesis where it matters).  Rounding to
    nearest is [round radix2 fexp (Znearest choice)] for an arbitrary
    tie-breaking rule [choice]; ties-to-even is the instance
    [choice := fun n => negb (Z.even n)] ([ZnearestE]), so every statement
    below holds in particular for the IEEE default rounding mode.

    The format is a parameter: [Module Type FORMAT] is the signature
    (precision, minimal exponent, and two inequalities between them that
    the proofs need), [Module Rounding (F : FORMAT)] proves the facts for
    every such format, and the two instances are
      - [Binary64]: prec = 53, emin = -1074; unit roundoff u = 2^-53,
        eta = 2^-1074 (IEEE binary64, Rust's [f64]);
      - [Binary32]: prec = 24, emin = -149; unit roundoff u = 2^-24,
        eta = 2^-149 (IEEE binary32, Rust's [f32]).
    The facts of an instance are checked by computation ([Z.leb]), and
    [<: FORMAT] checks that the instance implements the signature.  The
    binary64 instance is included at the top level of this file
    ([Include Rounding Binary64]), so the names below ([u], [eta], [RN],
    [rn_error_bound], ...) are, at the top level, the binary64 ones, as they
    were before the generalisation.

    All proofs in this file are ours; they use lemmas of the Flocq library.
*)
From Coq Require Import Reals Lra Lia ZArith.
From Flocq Require Import Core Relative Plus_error Mult_error.
Open Scope R_scope.

(** The signature of a binary format.  [6 <= prec] gives u <= 1/64;
    [emin + prec - 1 <= emin / 2] (integer division, rounding down) says
    that the square root of any positive float (>= 2^emin) is at least
    2^(emin/2), hence in the normal range [>= 2^(emin + prec - 1)], where
    rounding has a purely relative error (used for the square root of
    Cholesky's pivots). *)
Module Type FORMAT.
Parameter prec emin : Z.
Parameter prec_ge_6 : (6 <= prec)%Z.
Parameter sqrt_normal : (emin + prec - 1 <= emin / 2)%Z.
End FORMAT.

(** IEEE binary64: 53 bits, smallest subnormal 2^-1074. *)
Module Binary64 <: FORMAT.
Definition prec : Z := 53%Z.
Definition emin : Z := (-1074)%Z.
Definition prec_ge_6 : (6 <= prec)%Z := proj1 (Z.leb_le 6 prec) eq_refl.
Definition sqrt_normal : (emin + prec - 1 <= emin / 2)%Z :=
  proj1 (Z.leb_le (emin + prec - 1) (emin / 2)) eq_refl.
End Binary64.

(** IEEE binary32: 24 bits, smallest subnormal 2^-149. *)
Module Binary32 <: FORMAT.
Definition prec : Z := 24%Z.
Definition emin : Z := (-149)%Z.
Definition prec_ge_6 : (6 <= prec)%Z := proj1 (Z.leb_le 6 prec) eq_refl.
Definition sqrt_normal : (emin + prec - 1 <= emin / 2)%Z :=
  proj1 (Z.leb_le (emin + prec - 1) (emin / 2)) eq_refl.
End Binary32.

(** Everything that holds for every binary format. *)
Module Rounding (F : FORMAT).

Definition prec : Z := F.prec.
Definition emin : Z := F.emin.
Definition fexp := FLT_exp emin prec.

(** Unit roundoff and the smallest positive subnormal
    (binary64: 2^-53 and 2^-1074; binary32: 2^-24 and 2^-149). *)
Definition u : R := bpow radix2 (- prec).
Definition eta : R := bpow radix2 emin.

Lemma prec_ge_6 : (6 <= prec)%Z.
Proof. exact F.prec_ge_6. Qed.

Lemma sqrt_normal : (emin + prec - 1 <= emin / 2)%Z.
Proof. exact F.sqrt_normal. Qed.

Global Instance prec_gt_0 : Prec_gt_0 prec.
Proof. unfold Prec_gt_0. pose proof prec_ge_6. lia. Qed.

Global Instance fexp_valid : Valid_exp fexp.
Proof. unfold fexp; apply FLT_exp_valid; exact prec_gt_0. Qed.

Global Instance fexp_monotone : Monotone_exp fexp.
Proof. unfold fexp; apply FLT_exp_monotone. Qed.

Definition format (x : R) : Prop := generic_format radix2 fexp x.

Section RN.
Variable choice : Z -> bool.

(** Round to nearest (any tie-breaking rule). *)
Definition RN (x : R) : R := round radix2 fexp (Znearest choice) x.

Lemma RN_format : forall x, format (RN x).
Proof. intro x; apply generic_format_round; auto with typeclass_instances. Qed.

Lemma u_pos : 0 < u.
Proof. apply bpow_gt_0. Qed.

Lemma eta_pos : 0 < eta.
Proof. apply bpow_gt_0. Qed.

(** u <= 1/64 (6 <= prec) and eta <= u (emin <= -prec). *)
Lemma u_le_64 : u <= / 64.
Proof.
  unfold u. replace (/ 64) with (bpow radix2 (-6)) by (simpl; reflexivity).
  apply bpow_le. pose proof prec_ge_6. lia.
Qed.

Lemma eta_le_u : eta <= u.
Proof.
  unfold eta, u. apply bpow_le. pose proof prec_ge_6. pose proof sqrt_normal.
  pose proof (Z.mul_div_le emin 2). lia.
Qed.

(** [rn_error_bound]: |RN(x) - x| <= u|x| + eta/2 (binary64: u = 2^-53 and
    eta/2 = 2^-1075), for every real x (no range hypothesis is needed in
    the FLT model; an overflowing x would not be rounded to a finite float). *)
Theorem rn_error_bound :
  forall x : R, Rabs (RN x - x) <= u * Rabs x + / 2 * eta.
Proof.
  intro x.
  destruct (error_N_FLT radix2 emin prec prec_gt_0 choice x)
    as (d & e & Hd & He & _ & Hr).
  unfold RN, fexp; rewrite Hr.
  replace (x * (1 + d) + e - x) with (x * d + e) by ring.
  eapply Rle_trans; [apply Rabs_triang|].
  rewrite Rabs_mult.
  assert (Hu : / 2 * bpow radix2 (- prec + 1) = u).
  { unfold u.
    replace (/ 2) with (bpow radix2 (-1)) by (simpl; reflexivity).
    rewrite <- bpow_plus; f_equal; ring. }
  rewrite Hu in Hd.
  apply Rplus_le_compat; [|exact He].
  rewrite Rmult_comm; apply Rmult_le_compat_r; [apply Rabs_pos|exact Hd].
Qed.

(** The two float neighbours of x bracket x, and RN(x) is one of them. *)
Theorem next_up_rn_upper :
  forall x : R, x <= succ radix2 fexp (RN x).
Proof.
  intro x.
  destruct (round_DN_or_UP radix2 fexp (Znearest choice) x) as [H|H];
    unfold RN; rewrite H.
  - eapply Rle_trans; [apply (proj1 (proj2 (round_UP_pt radix2 fexp x)))|].
    exact (UP_le_succ_DN radix2 fexp x).
  - eapply Rle_trans; [apply (proj1 (proj2 (round_UP_pt radix2 fexp x)))|].
    apply succ_ge_id; auto with typeclass_instances.
Qed.

Theorem next_down_rn_lower :
  forall x : R, pred radix2 fexp (RN x) <= x.
Proof.
  intro x.
  destruct (round_DN_or_UP radix2 fexp (Znearest choice) x) as [H|H];
    unfold RN; rewrite H.
  - eapply Rle_trans; [apply pred_le_id; auto with typeclass_instances|].
    apply (proj1 (proj2 (round_DN_pt radix2 fexp x))).
  - eapply Rle_trans; [exact (pred_UP_le_DN radix2 fexp x)|].
    apply (proj1 (proj2 (round_DN_pt radix2 fexp x))).
Qed.

(** Near zero the absolute error is at most eta/2: for |x| < 2^(emin+prec)
    (binary64: 2^-1021), |RN(x) - x| <= eta/2 (binary64: 2^-1075; the spacing
    of floats there is eta). *)
Lemma rn_error_small : forall x, Rabs x < bpow radix2 (emin + prec) ->
  Rabs (RN x - x) <= / 2 * eta.
Proof.
  intros x Hx. unfold RN.
  eapply Rle_trans; [apply error_le_half_ulp; auto with typeclass_instances|].
  unfold fexp. rewrite ulp_FLT_small by (exact Hx || exact prec_gt_0).
  right. reflexivity.
Qed.

(** [scale_pow2_error]: scaling a float by 2^k loses at most eta/2: the
    product is exact when it is zero or normal (|f 2^k| >= 2^(emin+prec-1),
    binary64: 2^-1022), and is within eta/2 when it lands in the subnormal
    range. *)
Theorem scale_pow2_error : forall (f : R) (k : Z), format f ->
  Rabs (RN (f * bpow radix2 k) - f * bpow radix2 k) <= / 2 * eta.
Proof.
  intros f k Ff.
  pose proof eta_pos.
  destruct (Rle_or_lt (bpow radix2 (emin + prec - 1)) (Rabs (f * bpow radix2 k))) as [Hn|Hs].
  - assert (F : format (f * bpow radix2 k)).
    { apply generic_format_FLT_FLX.
      + exact Hn.
      + apply mult_bpow_exact_FLX; auto with typeclass_instances.
        apply generic_format_FLX_FLT with emin; exact Ff. }
    unfold RN. rewrite round_generic; auto with typeclass_instances.
    unfold Rminus. rewrite Rplus_opp_r, Rabs_R0. lra.
  - apply rn_error_small. eapply Rlt_trans; [exact Hs|]. apply bpow_lt. lia.
Qed.

End RN.

(** The IEEE default: ties to even. *)
Definition RNE (x : R) : R := RN (fun n => negb (Z.even n)) x.

Lemma RNE_is_round_ne : forall x, RNE x = round radix2 fexp ZnearestE x.
Proof. reflexivity. Qed.

End Rounding.

(** ** The binary64 instance, at the top level of this file. *)
Include Rounding Binary64.

(** Binary64-specific facts (overflow threshold 2^1024). *)
Section Binary64Facts.
Variable choice : Z -> bool.

(** A finite binary64 number: in the format and below the overflow
    threshold 2^1024 (the largest finite double is (2 - 2^-52) 2^1023). *)
Definition binary64_finite (x : R) : Prop := format x /\ Rabs x < bpow radix2 1024.

(** [scale_pow2_exact]: multiplying a double by 2^k is exact when the result
    is zero or normal (|f 2^k| >= 2^-1022) and does not overflow. *)
Theorem scale_pow2_exact :
  forall (f : R) (k : Z),
  binary64_finite f ->
  (f * bpow radix2 k = 0 \/ bpow radix2 (-1022) <= Rabs (f * bpow radix2 k)) ->
  Rabs (f * bpow radix2 k) < bpow radix2 1024 ->
  binary64_finite (f * bpow radix2 k) /\ RN choice (f * bpow radix2 k) = f * bpow radix2 k.
Proof.
  intros f k [Ff _] Hn Ho.
  assert (F : format (f * bpow radix2 k)).
  { destruct Hn as [Z0|Hn].
    - rewrite Z0; apply generic_format_0.
    - apply generic_format_FLT_FLX.
      + exact Hn.
      + apply mult_bpow_exact_FLX; auto with typeclass_instances.
        apply generic_format_FLX_FLT with emin; exact Ff. }
  split; [split; [exact F|exact Ho]|].
  unfold RN; apply round_generic; auto with typeclass_instances.
Qed.

End Binary64Facts.
