// SPDX-License-Identifier: GPL-2.0
/*
 * bedside-i2c: TEST ONLY. An I2C adapter that stands in for a Raspberry Pi's I2C bus 1 with an
 * SSD1306 panel on it, for `make test-vm` (tests/vm/).
 *
 * It registers as bus number `nr` (1, so /dev/i2c-1 as on a Pi) and accepts plain I2C
 * transfers (I2C_RDWR: luma.core's default i2c interface) to `addr` (0x3C). Every message is
 * logged with its CLOCK_MONOTONIC time to /sys/kernel/debug/bedside-i2c/log, for the test to
 * rebuild the controller's RAM from. (The i2c core's own i2c:i2c_write trace events see the same
 * messages, but their text form prints at most 64 bytes of each: a frame is 1,025.)
 *
 * `present` (/sys/module/bedside_i2c/parameters/present) is the panel's wiring: while it is N,
 * the panel does not acknowledge its address and a transfer fails with -EREMOTEIO, as
 * i2c-bcm2835 reports a NACK (a loose wire, a panel unplugged).
 *
 * Log record, little-endian: u64 ns, u16 addr, u16 flags (the message's; 0x8000: NACKed),
 * u32 len, then len bytes. Writing anything to the log empties it.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/i2c.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

static int nr = 1;
module_param(nr, int, 0444);
MODULE_PARM_DESC(nr, "the bus number (1: /dev/i2c-1, as on a Raspberry Pi)");

static ushort addr = 0x3c;
module_param(addr, ushort, 0444);
MODULE_PARM_DESC(addr, "where the panel answers");

static bool present = true;
module_param(present, bool, 0644);
MODULE_PARM_DESC(present, "the panel is wired: N makes it NACK (-EREMOTEIO)");

static uint log_kb = 16384;
module_param(log_kb, uint, 0444);
MODULE_PARM_DESC(log_kb, "the log's size in KiB; records past it are counted in dropped");

#define NACKED 0x8000

struct record {
	__le64 ns;
	__le16 addr;
	__le16 flags;
	__le32 len;
} __packed;

static DEFINE_MUTEX(log_lock);
static u8 *log_buf;
static size_t log_size, log_used;
static u64 dropped, messages;
static struct dentry *dir;

static void log_msg(u64 ns, const struct i2c_msg *msg, bool nacked)
{
	struct record rec = {
		.ns = cpu_to_le64(ns),
		.addr = cpu_to_le16(msg->addr),
		.flags = cpu_to_le16((msg->flags & 0x7fff) | (nacked ? NACKED : 0)),
		.len = cpu_to_le32(msg->len),
	};
	/* a read's buffer holds nothing yet: only its header is logged */
	size_t body = (msg->flags & I2C_M_RD) ? 0 : msg->len;

	if (body == 0)
		rec.len = cpu_to_le32(0);
	mutex_lock(&log_lock);
	messages++;
	if (log_used + sizeof(rec) + body > log_size) {
		dropped++;
	} else {
		memcpy(log_buf + log_used, &rec, sizeof(rec));
		memcpy(log_buf + log_used + sizeof(rec), msg->buf, body);
		log_used += sizeof(rec) + body;
	}
	mutex_unlock(&log_lock);
}

static int bedside_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	u64 ns = ktime_get_ns();
	int i;

	for (i = 0; i < num; i++) {
		if (msgs[i].addr != addr || !READ_ONCE(present)) {
			log_msg(ns, &msgs[i], true);
			return -EREMOTEIO;
		}
		log_msg(ns, &msgs[i], false);
		if (msgs[i].flags & I2C_M_RD)
			memset(msgs[i].buf, 0, msgs[i].len); /* the status byte: all clear */
	}
	return num;
}

static u32 bedside_func(struct i2c_adapter *adap)
{
	return I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;
}

static const struct i2c_algorithm bedside_algo = {
	.master_xfer = bedside_xfer,
	.functionality = bedside_func,
};

static struct i2c_adapter adapter = {
	.owner = THIS_MODULE,
	.algo = &bedside_algo,
	.name = "bedside-vm: a stand-in for the Pi's i2c-1",
};

static ssize_t log_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	ssize_t done;

	mutex_lock(&log_lock);
	done = simple_read_from_buffer(ubuf, count, ppos, log_buf, log_used);
	mutex_unlock(&log_lock);
	return done;
}

static ssize_t log_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	mutex_lock(&log_lock);
	log_used = 0;
	dropped = 0;
	mutex_unlock(&log_lock);
	return count;
}

static const struct file_operations log_fops = {
	.owner = THIS_MODULE,
	.read = log_read,
	.write = log_write,
	.llseek = default_llseek,
};

static int __init bedside_i2c_init(void)
{
	int err;

	log_size = (size_t)log_kb * 1024;
	log_buf = vmalloc(log_size);
	if (!log_buf)
		return -ENOMEM;
	adapter.nr = nr;
	err = i2c_add_numbered_adapter(&adapter);
	if (err) {
		vfree(log_buf);
		return err;
	}
	dir = debugfs_create_dir("bedside-i2c", NULL);
	debugfs_create_file("log", 0600, dir, NULL, &log_fops);
	debugfs_create_u64("dropped", 0400, dir, &dropped);
	debugfs_create_u64("messages", 0400, dir, &messages);
	return 0;
}

static void __exit bedside_i2c_exit(void)
{
	debugfs_remove_recursive(dir);
	i2c_del_adapter(&adapter);
	vfree(log_buf);
}

module_init(bedside_i2c_init);
module_exit(bedside_i2c_exit);
MODULE_DESCRIPTION("TEST ONLY: a Raspberry Pi's I2C bus 1 with an SSD1306 at 0x3C, logged");
MODULE_LICENSE("GPL");
