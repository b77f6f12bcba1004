// The table of vec_math.h's vlog. A positive normal x is 2^k z with z in [0.6875, 1.375); the
// bits of x minus those of 0.6875 give k (their exponent field) and, in their next 5 bits, which
// of 32 pieces z lies in: 20 of width 1/64 below 1, 12 of width 1/32 above (the exponent of z
// changes at 1). kLogInvC[j] is 1/c rounded to float, c the piece's centre, except c = 1 for the
// two pieces next to 1, where r = z - 1 is exact and log keeps its relative accuracy as x -> 1;
// kLogC[j] = -log(kLogInvC[j]) in double, rounded (of the rounded 1/c, so that
// log z = log1p(z kLogInvC[j] - 1) + kLogC[j] holds exactly). |z/c - 1| <= 1/32.
// Included by the ISA units only; constexpr (not inline), so each has its own copy and no symbol
// the linker could share with generic code (see [note: ISA units] in CMakeLists.txt).
#pragma once

namespace fastnn {

constexpr int kLogOffsetBits = 0x3f300000;  // 0.6875f
alignas(64) constexpr float kLogInvC[32] = {1.4382022619247437f,
                                            1.4065934419631958f,
                                            1.376344084739685f,
                                            1.3473684787750244f,
                                            1.3195875883102417f,
                                            1.2929292917251587f,
                                            1.2673267126083374f,
                                            1.2427184581756592f,
                                            1.2190476655960083f,
                                            1.1962616443634033f,
                                            1.174311876296997f,
                                            1.1531531810760498f,
                                            1.1327433586120605f,
                                            1.1130434274673462f,
                                            1.0940171480178833f,
                                            1.0756303071975708f,
                                            1.0578511953353882f,
                                            1.0406503677368164f,
                                            1.0240000486373901f,
                                            1.0f,
                                            1.0f,
                                            0.9552238583564758f,
                                            0.9275362491607666f,
                                            0.9014084339141846f,
                                            0.8767123222351074f,
                                            0.8533333539962769f,
                                            0.8311688303947449f,
                                            0.8101266026496887f,
                                            0.790123462677002f,
                                            0.7710843086242676f,
                                            0.7529411911964417f,
                                            0.7356321811676025f};
alignas(64) constexpr float kLogC[32] = {-0.3633939027786255f,
                                         -0.3411707878112793f,
                                         -0.31943076848983765f,
                                         -0.2981534004211426f,
                                         -0.2773192524909973f,
                                         -0.25691041350364685f,
                                         -0.23690973222255707f,
                                         -0.21730127930641174f,
                                         -0.19806994497776031f,
                                         -0.1792013943195343f,
                                         -0.1606823354959488f,
                                         -0.14250008761882782f,
                                         -0.12464243918657303f,
                                         -0.10709808766841888f,
                                         -0.08985637873411179f,
                                         -0.07290682196617126f,
                                         -0.05623967573046684f,
                                         -0.039845872670412064f,
                                         -0.023716574534773827f,
                                         -0.0f,
                                         -0.0f,
                                         0.045809559524059296f,
                                         0.0752234011888504f,
                                         0.1037968099117279f,
                                         0.13157635927200317f,
                                         0.15860500931739807f,
                                         0.18492233753204346f,
                                         0.2105647474527359f,
                                         0.23556606471538544f,
                                         0.25995755195617676f,
                                         0.2837681472301483f,
                                         0.3070250451564789f};

}  // namespace fastnn
