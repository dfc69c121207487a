/*
 * bpf.c - classic BPF, as libpcap's compiler emits it for offline captures.
 *
 * The instruction set is the one of the BSD packet filter: load (word, half,
 * byte; absolute, indirect, length, immediate, scratch memory, the IP header
 * length trick), store, ALU, conditional and unconditional forward jumps,
 * return, and the A/X transfers.  Programs come from the broker, but the
 * interpreter does not rely on that: es_bpf_valid refuses anything that could
 * jump outside the program or index outside the scratch memory, and every
 * packet access is bounds-checked.
 */
#include "bpf.h"

/* Opcode fields (the BPF encoding). */
#define CLASS(c) ((c) & 0x07)
#define LD 0x00
#define LDX 0x01
#define ST 0x02
#define STX 0x03
#define ALU 0x04
#define JMP 0x05
#define RET 0x06
#define MISC 0x07

#define SIZE(c) ((c) & 0x18)
#define W 0x00
#define H 0x08
#define B 0x10

#define MODE(c) ((c) & 0xe0)
#define IMM 0x00
#define ABS 0x20
#define IND 0x40
#define MEM 0x60
#define LEN 0x80
#define MSH 0xa0

#define OP(c) ((c) & 0xf0)
#define SRC(c) ((c) & 0x08)
#define K 0x00
#define X 0x08

#define ADD 0x00
#define SUB 0x10
#define MUL 0x20
#define DIV 0x30
#define OR 0x40
#define AND 0x50
#define LSH 0x60
#define RSH 0x70
#define NEG 0x80
#define MOD 0x90
#define XOR 0xa0

#define JA 0x00
#define JEQ 0x10
#define JGT 0x20
#define JGE 0x30
#define JSET 0x40

#define RVAL(c) ((c) & 0x18)
#define RET_K 0x00
#define RET_X 0x08
#define RET_A 0x10

#define MISCOP(c) ((c) & 0xf8)
#define TAX 0x00
#define TXA 0x80

#define MEMWORDS 16

static bool valid_insn(const struct es_bpf_insn *in, size_t at, size_t count)
{
    uint16_t c = in->code;
    size_t rest = count - at - 1;   /* instructions after this one */
    switch (CLASS(c)) {
    case LD:
        if (MODE(c) == MEM)
            return in->k < MEMWORDS;
        if (MODE(c) == ABS || MODE(c) == IND)
            return SIZE(c) == W || SIZE(c) == H || SIZE(c) == B;
        return MODE(c) == IMM || MODE(c) == LEN;
    case LDX:
        if (MODE(c) == MEM)
            return in->k < MEMWORDS;
        if (MODE(c) == MSH)
            return SIZE(c) == B;
        return MODE(c) == IMM || MODE(c) == LEN;
    case ST:
    case STX:
        return in->k < MEMWORDS;
    case ALU:
        switch (OP(c)) {
        case ADD: case SUB: case MUL: case OR: case AND: case LSH: case RSH: case XOR: case NEG:
            return true;
        case DIV:
        case MOD:
            return SRC(c) == X || in->k != 0;   /* a constant divisor of 0 is refused up front */
        default:
            return false;
        }
    case JMP:
        /* A jump lands on at + 1 + offset, which must be an instruction. */
        if (OP(c) == JA)
            return in->k < rest;
        if (OP(c) == JEQ || OP(c) == JGT || OP(c) == JGE || OP(c) == JSET)
            return in->jt < rest && in->jf < rest;
        return false;
    case RET:
        return RVAL(c) == RET_K || RVAL(c) == RET_A || RVAL(c) == RET_X;
    case MISC:
        return MISCOP(c) == TAX || MISCOP(c) == TXA;
    }
    return false;
}

bool es_bpf_valid(const struct es_bpf_insn *insns, size_t count)
{
    if (count == 0 || count > ES_BPF_MAX_INSNS)
        return false;
    for (size_t i = 0; i < count; i++)
        if (!valid_insn(&insns[i], i, count))
            return false;
    return CLASS(insns[count - 1].code) == RET;
}

/* Loads `size` bytes (4, 2 or 1) big-endian at `offset`; false past caplen. */
static bool load(const uint8_t *p, uint32_t caplen, uint64_t offset, unsigned size, uint32_t *out)
{
    if (offset + size > caplen)
        return false;
    const uint8_t *q = p + offset;
    if (size == 4)
        *out = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    else if (size == 2)
        *out = (uint32_t)q[0] << 8 | q[1];
    else
        *out = q[0];
    return true;
}

static unsigned size_bytes(uint16_t code)
{
    return SIZE(code) == W ? 4 : SIZE(code) == H ? 2 : 1;
}

static uint32_t alu(uint16_t code, uint32_t a, uint32_t operand, bool *fail)
{
    switch (OP(code)) {
    case ADD: return a + operand;
    case SUB: return a - operand;
    case MUL: return a * operand;
    case DIV:
        if (operand == 0) {
            *fail = true;
            return 0;
        }
        return a / operand;
    case MOD:
        if (operand == 0) {
            *fail = true;
            return 0;
        }
        return a % operand;
    case OR: return a | operand;
    case AND: return a & operand;
    case XOR: return a ^ operand;
    case LSH: return operand < 32 ? a << operand : 0;
    case RSH: return operand < 32 ? a >> operand : 0;
    case NEG: return (uint32_t)-a;
    }
    *fail = true;
    return 0;
}

uint32_t es_bpf_run(const struct es_bpf_insn *insns, const uint8_t *p, uint32_t wirelen, uint32_t caplen)
{
    uint32_t a = 0, x = 0, mem[MEMWORDS] = {0};
    /* Valid programs only jump forward, so this loop ends. */
    for (size_t pc = 0;; pc++) {
        const struct es_bpf_insn *in = &insns[pc];
        uint16_t c = in->code;
        uint32_t value;
        bool fail = false;
        switch (CLASS(c)) {
        case LD:
            switch (MODE(c)) {
            case IMM: a = in->k; break;
            case LEN: a = wirelen; break;
            case MEM: a = mem[in->k]; break;
            case ABS:
                if (!load(p, caplen, in->k, size_bytes(c), &value))
                    return 0;
                a = value;
                break;
            case IND:
                if (!load(p, caplen, (uint64_t)x + in->k, size_bytes(c), &value))
                    return 0;
                a = value;
                break;
            }
            break;
        case LDX:
            switch (MODE(c)) {
            case IMM: x = in->k; break;
            case LEN: x = wirelen; break;
            case MEM: x = mem[in->k]; break;
            case MSH:   /* 4 * (the low nibble of byte k): an IPv4 header length */
                if (!load(p, caplen, in->k, 1, &value))
                    return 0;
                x = (value & 0x0f) << 2;
                break;
            }
            break;
        case ST: mem[in->k] = a; break;
        case STX: mem[in->k] = x; break;
        case ALU:
            a = alu(c, a, SRC(c) == X ? x : in->k, &fail);
            if (fail)
                return 0;
            break;
        case JMP: {
            if (OP(c) == JA) {
                pc += in->k;
                break;
            }
            uint32_t operand = SRC(c) == X ? x : in->k;
            bool taken = OP(c) == JEQ   ? a == operand
                         : OP(c) == JGT ? a > operand
                         : OP(c) == JGE ? a >= operand
                                        : (a & operand) != 0;
            pc += taken ? in->jt : in->jf;
            break;
        }
        case RET:
            return RVAL(c) == RET_K ? in->k : RVAL(c) == RET_A ? a : x;
        case MISC:
            if (MISCOP(c) == TAX)
                x = a;
            else
                a = x;
            break;
        }
    }
}
