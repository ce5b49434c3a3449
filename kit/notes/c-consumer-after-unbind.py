import fcntl, struct, os, subprocess
def IOC(d,t,nr,size): return (d<<30)|(size<<16)|(t<<8)|nr
M=0xb7
LOOK=48; OP=16
CREG_GET=IOC(3,M,0x10,LOOK); CREG_SET=IOC(1,M,0x12,OP); CREG_GETV=IOC(3,M,0x11,OP); REG_LOOKUP=IOC(3,M,0x0a,LOOK); REG_GETV=IOC(3,M,0x0e,OP)
fd=os.open("/dev/resmgr-test", os.O_RDWR)
def lookup(cmd,name):
    b=bytearray(struct.pack("32sQQ", name.encode(), 0, 0)); fcntl.ioctl(fd, cmd, b); return struct.unpack("32sQQ", b)[2]
def op(cmd,i,v=0):
    b=bytearray(struct.pack("QQ",i,v))
    try: fcntl.ioctl(fd, cmd, b); return "ok %d" % struct.unpack("QQ",b)[1]
    except OSError as e: return "errno %d (%s)" % (e.errno, os.strerror(e.errno))
c=lookup(CREG_GET,"resmgr-test-vreg"); r=lookup(REG_LOOKUP,"resmgr-test-vreg")
print("C consumer set 2.0V before unbind:", op(CREG_SET,c,2000000))
print("C consumer get before unbind:", op(CREG_GETV,c))
open("/sys/bus/platform/drivers/resmgr_test_regulator/unbind","w").write("resmgr_test_regulator")
print("C consumer get after unbind:", op(CREG_GETV,c))
print("C consumer set 2.2V after unbind:", op(CREG_SET,c,2200000))
print("resmgr handle get after unbind:", op(REG_GETV,r))
os.close(fd)
print("closed; regulator_put done")
